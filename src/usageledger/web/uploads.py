"""A page form that carries one CSV file, or the same text pasted: read within bounds, CSRF checked.

Every other form of ours is a few short fields and takes no file (`deps.CsrfForm`). Starlette bounds a
form's fields but not its files (it spools them to disk), so the declared length is checked first: a
browser always sends it for a form. The file's text comes back in place of the text field, so a page that
refuses it can show it again for correction, and nothing typed or chosen is lost.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from usageledger.identity.csv_import import MAX_FILE_BYTES, decode_csv
from usageledger.web.deps import require_form_csrf
from usageledger.web.errors import ApiError
from usageledger.web.security import CSRF_FIELD

__all__ = ["read_csv_form"]

_FORM_OVERHEAD = 64 * 1024  # the CSRF token, the other short fields, boundaries and part headers
_MAX_FIELDS = 10


def _too_large() -> ApiError:
    return ApiError(
        413, "payload_too_large", f"Import at most one CSV file of {MAX_FILE_BYTES // (1024 * 1024)} MB."
    )


async def read_csv_form(request: Request, *, file_field: str, text_field: str) -> dict[str, Any]:
    """The form's text fields, with `text_field` holding the chosen file's text (UTF-8) when there is one,
    else what was pasted there. A bad CSRF token is a 403, a form beyond the bounds a 413, a file that is not
    UTF-8 a UsageError."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FILE_BYTES + _FORM_OVERHEAD:
        raise _too_large()
    try:
        form = await request.form(max_files=1, max_fields=_MAX_FIELDS, max_part_size=MAX_FILE_BYTES + 1)
    except StarletteHTTPException as exc:
        raise _too_large() from exc
    require_form_csrf(request, form)
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != CSRF_FIELD}
    upload = form.get(file_field)
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_FILE_BYTES + 1)
        await upload.close()
        fields[text_field] = decode_csv(data)
    elif isinstance(fields.get(text_field), str):  # pasted from a file that began with a byte-order mark
        fields[text_field] = fields[text_field].removeprefix("\ufeff")
    return fields
