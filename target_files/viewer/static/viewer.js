// The table views: their rows (from the view's data script, as text nodes), the filter box
// and sortable columns. No network, no eval, no HTML from data, nothing else.
"use strict";

const pendingRows = [];
window.codaViewer = { rows: (cells) => pendingRows.push(cells) };

function fill(table, cells) {
  const rows = document.createDocumentFragment();
  for (const values of cells) {
    const row = document.createElement("tr");
    for (const value of values) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    rows.append(row);
  }
  table.tBodies[0].append(rows);
}

function cellKey(cell) {
  const text = cell ? cell.textContent : "";
  const number = Number(text.replace(/,/g, ""));
  return text.trim() !== "" && Number.isFinite(number) ? [0, number] : [1, text.toLowerCase()];
}

function compareKeys(a, b) {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] < b[1]) return -1;
  return a[1] > b[1] ? 1 : 0;
}

function sortBy(table, header, column) {
  const up = header.getAttribute("aria-sort") !== "ascending";
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  header.setAttribute("aria-sort", up ? "ascending" : "descending");
  const body = table.tBodies[0];
  const keyed = Array.from(body.rows, (row) => [cellKey(row.cells[column]), row]);
  keyed.sort((x, y) => (up ? 1 : -1) * compareKeys(x[0], y[0]));
  body.append(...keyed.map((pair) => pair[1]));
}

function wire(table) {
  const rows = Array.from(table.tBodies[0].rows);
  const texts = rows.map((row) => row.textContent.toLowerCase());
  const box = document.getElementById(table.dataset.filter);
  const count = document.getElementById(table.dataset.count);
  if (box) {
    box.addEventListener("input", () => {
      const wanted = box.value.trim().toLowerCase();
      let shown = 0;
      rows.forEach((row, i) => {
        row.hidden = wanted !== "" && !texts[i].includes(wanted);
        if (!row.hidden) shown += 1;
      });
      if (count) count.textContent = String(shown);
    });
  }
  Array.from(table.tHead.rows[0].cells).forEach((header, column) => {
    const button = header.querySelector("button");
    if (button) button.addEventListener("click", () => sortBy(table, header, column));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.rows").forEach((table) => {
    fill(table, pendingRows.shift() || []);
    wire(table);
  });
});
