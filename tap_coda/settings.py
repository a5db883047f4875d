"""tap-coda's settings: their schema (the one place defaults live) and a frozen view of them.

singer-sdk validates the config against `CONFIG_SCHEMA` and inserts its defaults, so the
tap reads every setting once, into `Settings`, and nothing else repeats a default.
"""

from __future__ import annotations

import difflib
import typing as t
from dataclasses import dataclass, fields

import jsonschema  # type: ignore[import-untyped]  # singer-sdk brings it, without stubs
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_coda.assetrefs import DEFAULT_ASSET_HOSTS
from tap_coda.egress import DEFAULT_DOWNLOAD_HOSTS
from tap_coda.pacing import DEFAULT_RATE_LIMITS

TOKEN_ENV = "CODA_API_TOKEN"  # noqa: S105 - a variable name, not a secret
#: Exports in flight: one window's write budget (10 per 6 s), so a window's export starts
#: all go the moment it opens. With 8, the last two of every window waited for a worker
#: to finish its export (2.6 s): the starts of a full backup spanned 63.1 s, with 10 57.3 s
#: (54 s is the least the limit allows).
DEFAULT_CONCURRENCY = 10

CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "api_token",
        th.StringType,
        secret=True,
        title="API token",
        description=f"Coda API token. If absent: env {TOKEN_ENV}, then api_token_file.",
    ),
    th.Property(
        "api_token_file",
        th.StringType,
        title="API token file",
        description="File holding the token (surrounding whitespace is stripped).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default="https://coda.io/apis/v1",
        description="Base URL of the Coda API (tests point it at the fake).",
    ),
    th.Property(
        "include_shared",
        th.BooleanType,
        default=False,
        description="Also back up docs shared with you (false sends isOwner=true).",
    ),
    th.Property(
        "workspace_id",
        th.StringType,
        description="Only docs of this workspace (sent as workspaceId).",
    ),
    th.Property(
        "doc_ids",
        th.ArrayType(th.StringType),
        description="Back up exactly these docs, e.g. docs never opened "
        "(which GET /docs does not list).",
    ),
    th.Property(
        "skip_hidden_pages",
        th.BooleanType,
        default=False,
        description="Drop pages with isEffectivelyHidden (hidden, or under a hidden page).",
    ),
    th.Property(
        "include_views",
        th.BooleanType,
        default=True,
        description="False: emit only base tables (tableType table), no views.",
    ),
    th.Property(
        "page_formats",
        th.ArrayType(th.StringType),
        default=["markdown"],
        description="Page exports to run: markdown and/or html.",
    ),
    th.Property(
        "value_format",
        th.StringType,
        default="simpleWithArrays",
        allowed_values=["simpleWithArrays", "simple", "rich"],
        description="Row valueFormat (simple joins multi-values into one string).",
    ),
    th.Property(
        "strict_latest",
        th.BooleanType,
        default=False,
        description="Send X-Coda-Doc-Version: latest; a stale doc is retried, "
        "then recorded as a failure.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=6,
        description="Retries for 429, 5xx, connection errors and timeouts.",
    ),
    th.Property(
        "backoff_base_seconds",
        th.NumberType,
        default=1.0,
        description="First retry wait; it doubles per retry "
        "(jittered between half and all of it, capped at 120 s).",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=60,
        description="Seconds one request may wait to connect or for the next bytes of "
        "its answer before it counts as a timeout (retried).",
    ),
    th.Property(
        "export_timeout",
        th.NumberType,
        default=120,
        description="Deadline in seconds for one page export: its start, polls and download.",
    ),
    th.Property(
        "download_hosts",
        th.ArrayType(th.StringType),
        default=list(DEFAULT_DOWNLOAD_HOSTS),
        description="Hosts export download links may point to (each also covers its "
        "subdomains; host:port names one port), over https; the API's own origin is always "
        "allowed. A link or redirect elsewhere is refused and recorded as a failure.",
    ),
    th.Property(
        "download_assets",
        th.BooleanType,
        default=True,
        description="Download the images and attachments pages, covers and rows refer to, "
        "and send them as `assets` records (target-files keeps them and rewrites links).",
    ),
    th.Property(
        "asset_hosts",
        th.ArrayType(th.StringType),
        default=list(DEFAULT_ASSET_HOSTS),
        description="Hosts whose files are assets (each also covers its subdomains; "
        "host:port names one port); https only, but for a loopback host. No other host is "
        "contacted, redirects included, and the API token is never sent to one.",
    ),
    th.Property(
        "asset_max_bytes",
        th.IntegerType,
        default=1024 * 1024 * 1024,
        description="Largest asset downloaded, in bytes; a larger one is a failure.",
    ),
    th.Property(
        "max_body_bytes",
        th.IntegerType,
        default=32 * 1024 * 1024,
        description="Largest API answer read, in bytes; a longer one fails its object.",
    ),
    th.Property(
        "max_download_bytes",
        th.IntegerType,
        default=64 * 1024 * 1024,
        description="Largest page export kept, in bytes once decompressed; a larger one "
        "(e.g. a gzip bomb) fails its page.",
    ),
    th.Property(
        "export_poll_interval",
        th.NumberType,
        default=1.0,
        description="Seconds before the first export poll; later polls scale with it.",
    ),
    th.Property(
        "rows_full_refresh_days",
        th.IntegerType,
        default=7,
        description="Read every table in full at least this often (0: never), "
        "catching what sync-token deltas cannot see.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="List, decide, fetch nothing: page_contents records carry no content "
        "(only what would be exported and why) and table_syncs say how each table's rows "
        "would be read. No export, no row request.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=DEFAULT_CONCURRENCY,
        description="Page exports in flight at once; twice as many table and column "
        "reads run ahead (1: no work ahead of the sync). Whatever the value, pacing "
        "keeps Coda's limits and the output is the same.",
    ),
    th.Property(
        "rate_limit_reads",
        th.IntegerType,
        default=DEFAULT_RATE_LIMITS["read"],
        description="Read requests per 6 s (Coda: 100). 0 disables pacing.",
    ),
    th.Property(
        "rate_limit_writes",
        th.IntegerType,
        default=DEFAULT_RATE_LIMITS["write"],
        description="Write requests (export starts) per 6 s (Coda: 10).",
    ),
    th.Property(
        "rate_limit_list_docs",
        th.IntegerType,
        default=DEFAULT_RATE_LIMITS["list_docs"],
        description="GET /docs requests per 6 s (Coda: 4).",
    ),
    th.Property(
        "shared_pacing",
        th.BooleanType,
        default=True,
        description="Pace together with every tap-coda process of the same token and API on "
        "this machine (Coda's limits are per user), through a private file in pacing_dir. "
        "False: this process paces alone.",
    ),
    th.Property(
        "pacing_dir",
        th.StringType,
        description="Folder of the shared pacing file (default: $XDG_CACHE_HOME/tap-coda, "
        "else ~/.cache/tap-coda). The file is named by a hash, never holds the token.",
    ),
    th.Property(
        "refetch",
        th.ArrayType(th.StringType),
        default=[],
        description='Objects to read again whatever the bookmarks say, as "<doc_id>/<page_id>" '
        '(exported again) or "<doc_id>/<table_id>" (rows read in full); for copies found '
        "damaged.",
    ),
    th.Property(
        "skips_as_failures",
        th.BooleanType,
        default=False,
        description="Report what Coda can never serve (unexportable pages, docs over the API "
        'size limit) as failures (kind "failure") instead of skips (kind "skip").',
    ),
    th.Property(
        "table_streams",
        th.BooleanType,
        default=False,
        description="Also discover one typed stream per Coda table (named <doc>__<table>, "
        "one property per column), for warehouses. Off by default: discovery then needs "
        "no request, and target-files and existing state see only the generic streams.",
    ),
    th.Property(
        "table_stream_views",
        th.BooleanType,
        default=False,
        description="With table_streams: a stream per view too (views repeat their table's rows).",
    ),
).to_dict()

_CONVERSIONS: dict[str, t.Callable[[t.Any], t.Any]] = {
    "int": int,
    "float": float,
    "bool": bool,
    "tuple[str, ...]": tuple,
    "frozenset[str]": frozenset,
}


class ExportOptions(t.TypedDict):
    """The timing keywords of `tap_coda.export.export_page`."""

    timeout_s: float
    first_wait_s: float
    poll_scale: float


@dataclass(frozen=True)
class Settings:
    """Every setting but the token (which never leaves the tap's `api_token`), typed."""

    api_url: str
    include_shared: bool
    workspace_id: str | None
    doc_ids: tuple[str, ...]
    skip_hidden_pages: bool
    include_views: bool
    page_formats: tuple[str, ...]
    value_format: str
    strict_latest: bool
    max_retries: int
    backoff_base_seconds: float
    request_timeout: float
    export_timeout: float
    download_hosts: tuple[str, ...]
    download_assets: bool
    asset_hosts: tuple[str, ...]
    asset_max_bytes: int
    max_body_bytes: int
    max_download_bytes: int
    export_poll_interval: float
    rows_full_refresh_days: int
    dry_run: bool
    max_concurrency: int
    rate_limit_reads: int
    rate_limit_writes: int
    rate_limit_list_docs: int
    shared_pacing: bool
    pacing_dir: str | None
    refetch: frozenset[str]
    skips_as_failures: bool
    table_streams: bool
    table_stream_views: bool

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """From a config singer-sdk validated (its defaults inserted)."""
        values: dict[str, t.Any] = {}
        declared = CONFIG_SCHEMA["properties"]
        for field in fields(cls):
            # singer-sdk inserts the defaults; a config it did not validate gets them here.
            value = config.get(field.name, declared[field.name].get("default"))
            # A config file's fractions arrive as Decimal: every number gets its own type.
            convert = _CONVERSIONS.get(str(field.type))
            if convert in (tuple, frozenset):
                value = convert(value or ())
            elif convert is not None and value is not None:
                value = convert(value)
            values[field.name] = value
        return cls(**values)

    @property
    def rate_limits(self) -> dict[str, int]:
        """Requests per 6 s for each of Coda's rate classes."""
        return {
            "read": self.rate_limit_reads,
            "write": self.rate_limit_writes,
            "list_docs": self.rate_limit_list_docs,
        }

    @property
    def export_options(self) -> ExportOptions:
        """Keywords of `tap_coda.export.export_page`."""
        poll = self.export_poll_interval
        return ExportOptions(timeout_s=self.export_timeout, first_wait_s=poll, poll_scale=poll)


class SettingsError(ConfigValidationError):
    """A setting singer-sdk refused, said in one line that names the key."""


def _problem(error: jsonschema.ValidationError) -> str:
    """`key: what is wrong`, without the `null` every optional setting also allows."""
    key = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "type":
        allowed = error.validator_value if isinstance(error.validator_value, list) else []
        kinds = [kind for kind in allowed or [error.validator_value] if kind != "null"]
        message = f"{error.instance!r} is not of type " + " or ".join(map(repr, kinds))
    elif error.validator == "enum":
        choices = ", ".join(repr(c) for c in error.validator_value if c is not None)
        message = f"{error.instance!r} is not one of {choices}"
    else:
        message = error.message
    return f"{key}: {message}" if key else message


def config_problems(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> list[str]:
    """Every way the config breaks its schema, one line each, sorted by key."""
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(_problem(error) for error in validator.iter_errors(dict(config)))


def unknown_settings(
    config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]
) -> list[tuple[str, str | None]]:
    """Keys the schema (the tap's settings and singer-sdk's built-ins) does not know, each
    with the nearest known name (None when none is close)."""
    known = list(schema.get("properties") or {})
    return [
        (key, next(iter(difflib.get_close_matches(key, known, n=1)), None))
        for key in sorted(config)
        if key not in known
    ]
