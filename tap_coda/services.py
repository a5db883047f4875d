"""What every stream of one tap run shares: settings, ledger, pacing, and the work ahead.

The tap builds one `Services` and hands it to each stream it creates, so a stream reaches
the ledger or the export pipeline through a typed attribute instead of its tap's private
members. `pipeline` and `read_ahead` exist only once the docs are listed
(`TapCoda.start_pipeline`) and only when concurrency is on.
"""

from __future__ import annotations

import shutil
import threading
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tap_coda import assetrefs, httpsession, workdir
from tap_coda.export import export_page
from tap_coda.ledger import RunLedger
from tap_coda.pacing import RateLimits, build_rate_limits
from tap_coda.spooled import Export, SpooledExport

if t.TYPE_CHECKING:
    from tap_coda.assets import AssetFetcher
    from tap_coda.client import CodaStream
    from tap_coda.pipeline import ExportPipeline
    from tap_coda.readahead import ReadAhead
    from tap_coda.settings import Settings


def export_poll_reserve(settings: Settings) -> dict[str, int]:
    """At most how many read slots export status polls may have kept for them: one per
    export in flight (ExportPipeline holds them), at most a quarter of the window. A burst
    of read-ahead then never holds up an export, and with it the next export start, the
    write budget's (tap_coda.pacing.is_export_status); with no export in flight every
    read slot is anyone's."""
    reads = settings.rate_limits.get("read", 0)
    return {"read": min(settings.max_concurrency, reads // 4)} if reads > 0 else {}


@dataclass
class Services:
    settings: Settings
    #: Resolves the API token when first needed (a missing token is one line, not a crash).
    api_token: t.Callable[[], str]
    #: `tap-coda/<version>`, sent with every API request.
    user_agent: str = "tap-coda"
    ledger: RunLedger = field(default_factory=RunLedger)
    #: For signed download links: a session that never carries the token.
    blob_session: requests.Session = field(default_factory=httpsession.Session)
    pipeline: ExportPipeline | None = None
    #: Called with the ids of the docs to back up once they are listed (starts the work
    #: ahead of the sync, `TapCoda.start_pipeline`).
    on_docs_listed: t.Callable[[list[str]], None] = field(default=lambda doc_ids: None)
    read_ahead: ReadAhead | None = None
    #: downloads of images and attachments (None: `download_assets` is off)
    assets: AssetFetcher | None = None
    #: Whether any request got an answer yet (see tap_coda.reach).
    api_reached: bool = False
    _work_dir: Path | None = field(default=None, init=False, repr=False)
    _pacing: RateLimits | None = field(default=None, init=False, repr=False)
    _pacing_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def rate_limits(self) -> RateLimits:
        """Pacing, shared with the token's other processes: made at the first request (it
        needs the token), once, whichever thread asks first."""
        with self._pacing_lock:
            if self._pacing is None:
                settings = self.settings
                self._pacing = build_rate_limits(
                    settings.rate_limits,
                    api_url=settings.api_url,
                    token=self.api_token(),
                    shared=settings.shared_pacing,
                    folder=settings.pacing_dir,
                    reserve=export_poll_reserve(settings),
                )
            return self._pacing

    def work_dir(self) -> Path:
        """The run's folder for work files (large exports on their way): made when first
        needed, removed by `close`."""
        with self._pacing_lock:
            if self._work_dir is None:
                self._work_dir = workdir.make()
            return self._work_dir

    def export(self, stream: CodaStream, doc_id: str, page_id: str, output_format: str) -> Export:
        """One page's export: from the pipeline when it runs, else right here."""
        if self.pipeline is not None:
            return self.pipeline.export((doc_id, page_id, output_format))
        options = self.settings.export_options
        content = export_page(stream, doc_id, page_id, output_format, **options)
        self.found_in_export((doc_id, page_id, output_format), content)
        return content

    def found_in_export(self, key: tuple[str, str, str], content: Export) -> None:
        """Links expire: an export's assets start downloading as soon as it lands (on the
        export's worker when the pipeline runs); a large one is read a window at a time."""
        if self.assets is None or isinstance(content, bytes):
            return
        doc_id, page_id, output_format = key
        texts = content.windows() if isinstance(content, SpooledExport) else [content]
        urls = [url for text in texts for url in assetrefs.in_export(text, output_format)]
        self.assets.found(doc_id, f"page:{page_id}", urls)

    def close(self) -> None:
        """Stop the workers ahead of the sync (the run is over, or stopping)."""
        for helper in (self.pipeline, self.read_ahead, self.assets):
            if helper is not None:
                helper.close()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
