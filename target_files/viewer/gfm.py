"""GitHub Flavored Markdown to HTML with cmark-gfm, every C allocation freed.

cmarkgfm's `markdown_to_html_with_extensions` makes the very calls below but never frees
the parsed document nor the rendered string (theacodes/cmarkgfm#53, still so in
2025.10.22): about 14 KB per page of a backup, never returned, so a run's memory grew with
its pages (issue #17). Here the same parser, extensions and renderer are used, so the HTML
is byte for byte cmarkgfm's, and the document (`cmark_node_free`) and the string (the
allocator cmark-gfm rendered it with) are freed once the Python string holds a copy.
"""

from __future__ import annotations

import ctypes
import typing as t

from cmarkgfm import _cmark
from cmarkgfm import cmark as wrapper


class _Allocator(ctypes.Structure):
    """cmark-gfm's `cmark_mem`: the calloc, realloc and free it allocates with."""

    _fields_: t.ClassVar = [
        ("calloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t)),
        ("realloc", ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)),
        ("free", ctypes.CFUNCTYPE(None, ctypes.c_void_p)),
    ]


#: The extension module itself exports cmark-gfm's C API (the cffi `lib` lacks these two).
_LIB = ctypes.CDLL(_cmark.__file__)
_LIB.cmark_node_free.argtypes = [ctypes.c_void_p]
_LIB.cmark_node_free.restype = None
_LIB.cmark_get_default_mem_allocator.restype = ctypes.POINTER(_Allocator)
_FREE = _LIB.cmark_get_default_mem_allocator().contents.free


def _address(pointer: t.Any) -> int:
    return int(_cmark.ffi.cast("uintptr_t", pointer))


def to_html(text: str, extensions: t.Sequence[str]) -> str:
    """`cmarkgfm.markdown_to_html_with_extensions(text, extensions=...)` (options 0)."""
    lib = _cmark.lib
    wrapper.core_extensions_ensure_registered()
    found = [wrapper.find_syntax_extension(name) for name in extensions]
    if any(ext is None for ext in found):
        raise ValueError(f"unknown cmark-gfm extension in {list(extensions)}")
    parser = wrapper.parser_new(options=0)
    root = None
    try:
        for ext in found:
            wrapper.parser_attach_syntax_extension(parser, ext)
        wrapper.parser_feed(parser, text)
        root = wrapper.parser_finish(parser)
        if lib.cmark_node_get_type(root) == lib.CMARK_NODE_NONE:
            raise ValueError("cmark-gfm could not parse the Markdown")
        raw = lib.cmark_render_html(root, 0, wrapper.parser_get_syntax_extensions(parser))
        try:
            return bytes(_cmark.ffi.string(raw)).decode("utf-8")
        finally:
            _FREE(_address(raw))
    finally:
        if root is not None and root != _cmark.ffi.NULL:
            _LIB.cmark_node_free(_address(root))
        wrapper.parser_free(parser)
