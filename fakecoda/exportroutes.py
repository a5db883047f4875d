"""The export handlers: start a page export, poll it, and the signed download link it ends
with (NOTES §4, §13.2-§13.6); the jobs and links themselves are in `exports`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakecoda import render
from fakecoda.exports import (
    BLOB_PREFIX,
    ExportRegistry,
    blob_key,
    download_url,
    s3_access_denied,
    s3_no_such_key,
)
from fakecoda.faults import EXPORT_KINDS, LINK_KINDS, FaultInjector
from fakecoda.protocol import ApiError, ListingApi, Request, Response, Target, dumps
from fakecoda.rowroutes import render_key

if TYPE_CHECKING:
    from fakecoda.workspace import Doc, Page

NOT_CANVAS = "Only canvas pages can be exported."


class ExportRoutes(ListingApi):
    """`POST …/export`, `GET …/export/{id}` and the blob host's `GET` of a download link."""

    exports: ExportRegistry
    faults: FaultInjector
    origin: str
    #: replaces asset placeholders by signed links (fakecoda.assets)
    sign_assets: Callable[[bytes], bytes]
    _export_cache: dict[tuple[str, str, str], tuple[Any, bytes]]

    def _begin_export(self, req: Request, t: Target) -> Response:
        try:
            request = json.loads(req.body or b"{}")
        except ValueError:
            raise ApiError(400, "Request body is not valid JSON.") from None
        fmt = request.get("outputFormat") if isinstance(request, dict) else None
        if fmt not in ("markdown", "html"):
            raise ApiError(400, "outputFormat must be one of: html, markdown.")
        if t.page.content_type != "canvas":
            raise ApiError(400, NOT_CANVAS)  # syncPage; embed and table assumed (NOTES §4)
        content = self.sign_assets(self._export_body(t.doc, t.page, fmt))
        job = self.exports.begin(t.doc.id, t.page.id, fmt, content, t.page.export_fails)
        href = f"{self.base}/docs/{t.doc.id}/pages/{t.page.id}/export/{job.id}"
        return Response(202, dumps({"id": job.id, "status": "inProgress", "href": href}))

    def _export_body(self, doc: Doc, page: Page, fmt: str) -> bytes:
        tables = [t for t in doc.tables if t.parent_page_id == page.id]
        key = (
            page.updated_at,
            hash(page.markdown),
            hash(page.html),
            tuple(render_key(self.ws, doc, t) for t in tables),
        )
        cached = self._export_cache.get((doc.id, page.id, fmt))
        if cached is not None and cached[0] == key:
            return cached[1]
        content = render.export_content(self.ws, doc, page, fmt).encode()
        self._export_cache[(doc.id, page.id, fmt)] = (key, content)
        return content

    def _export_status(self, req: Request, t: Target) -> Response:
        job = self.exports.jobs.get(t.key)
        if job is None or job.doc_id != t.doc.id or job.page_id != t.page.id:
            raise ApiError(404)
        job.polls += 1
        if self.config.first_poll_404 and job.polls == 1:
            raise ApiError(404)  # replication lag right after the POST (NOTES §4)
        href = f"{self.base}/docs/{t.doc.id}/pages/{t.page.id}/export/{job.id}"
        in_progress = {"id": job.id, "status": "inProgress", "href": href}
        fault = self.faults.take(EXPORT_KINDS, req.method, req.path)
        kind = fault.kind if fault else None
        if kind == "export_stuck":
            return Response(200, dumps(in_progress), fault=kind)
        if kind == "export_fail":
            job.error = job.error or "Export failed. Please try again later."
        if time.monotonic() - job.started < self.config.export_seconds:
            return Response(200, dumps(in_progress), fault=kind)
        if job.error:
            failed = {"id": job.id, "status": "failed", "href": href, "error": job.error}
            return Response(200, dumps(failed), fault=kind)
        link = self.exports.mint_link(job)
        done = {
            "id": job.id,
            "status": "complete",
            "href": href,
            "downloadLink": download_url(self.origin, job, link, self.config.link_ttl),
        }
        return Response(200, dumps(done))

    def blob(self, req: Request) -> Response:
        """The signed download link: web-app host, no auth, no rate limit (NOTES §4)."""
        with self.ws.lock:  # export state is guarded by the workspace lock, as in handle()
            return self._blob(req)

    def _blob(self, req: Request) -> Response:
        xml, ttl = "application/xml", self.config.link_ttl
        sig = req.query.get("sig", "")
        link = self.exports.links.get(sig)
        job = self.exports.jobs.get(link.job_id) if link else None
        if (
            link is None
            or job is None
            or req.method != "GET"
            or req.path[len(BLOB_PREFIX) :] != blob_key(job)
        ):
            return Response(403, s3_access_denied(sig, False, ttl), xml)
        fault = self.faults.take(LINK_KINDS, req.method, req.path)
        if fault is not None and fault.kind == "dead_link_403":
            return Response(403, s3_access_denied(sig, True, ttl), xml, fault=fault.kind)
        no_such_key = s3_no_such_key(job.page_id, job.doc_id, sig)
        if fault is not None:  # dead_link_200
            return Response(200, no_such_key, xml, fault=fault.kind)
        if time.monotonic() - link.minted > ttl:
            job.expired_hits += 1
            if job.expired_hits == 1:
                return Response(200, no_such_key, xml)  # the reported case, HTTP 200
            return Response(403, s3_access_denied(sig, True, ttl), xml)  # the measured case
        if self.config.shared_blob_key:
            # One blob key per page: the newest export of the page wins (NOTES §4).
            job = self.exports.jobs[self.exports.latest_by_key[(job.page_id, job.doc_id)]]
        return Response(
            200, job.body_gz, "text/plain; charset=utf-8", [("Content-Encoding", "gzip")]
        )
