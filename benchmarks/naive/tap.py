"""A naive singer-sdk tap for one Coda table's rows: every SDK default left as it is.

python -m benchmarks.naive.tap --config CONFIG   (api_url, api_token, doc_id, table_id)
"""

from __future__ import annotations

import typing as t

from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.pagination import JSONPathPaginator

ROW_SCHEMA = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("type", th.StringType),
    th.Property("href", th.StringType),
    th.Property("name", th.StringType),
    th.Property("index", th.IntegerType),
    th.Property("browserLink", th.StringType),
    th.Property("createdAt", th.DateTimeType),
    th.Property("updatedAt", th.DateTimeType),
    th.Property("values", th.ObjectType(additional_properties=True)),
).to_dict()


class RowsStream(RESTStream):
    name = "rows"
    primary_keys: t.ClassVar[list[str]] = ["id"]
    records_jsonpath = "$.items[*]"
    schema = ROW_SCHEMA

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def path(self) -> str:  # type: ignore[override]
        return f"/docs/{self.config['doc_id']}/tables/{self.config['table_id']}/rows"

    @property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

    def get_new_paginator(self) -> JSONPathPaginator:
        return JSONPathPaginator("$.nextPageToken")

    def get_url_params(self, context: dict | None, next_page_token: t.Any) -> dict:
        params: dict[str, t.Any] = {"limit": 500, "valueFormat": "simpleWithArrays"}
        if next_page_token:
            params["pageToken"] = next_page_token
        return params


class NaiveTap(Tap):
    name = "naive-tap-coda"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("api_token", th.StringType, required=True, secret=True),
        th.Property("doc_id", th.StringType, required=True),
        th.Property("table_id", th.StringType, required=True),
    ).to_dict()

    def discover_streams(self) -> list[RowsStream]:
        return [RowsStream(tap=self)]


if __name__ == "__main__":
    NaiveTap.cli()
