"""Records as peers send them: through the record schema, on its compiled fast path.

A peer's records were checked by the hub that made them and arrive in the plain form the feed
writes, so almost all of them take the compiled path (schemas.fastload), which loads them as
the schema would at a tenth of the cost. Anything it cannot vouch for goes through the schema
itself, so a bad record is refused with the same errors as from any other client.
"""

from __future__ import annotations

from typing import Any

from credithub.records.prepare import load_api_record
from schemas.fastload import Decline, compile_loader
from schemas.records import RecordInSchema

_FAST = compile_loader(RecordInSchema())


def load_peer_record(item: Any) -> dict[str, Any]:
    """What `load_api_record` gives for a peer's record (or its Invalid), mostly faster."""
    if _FAST is not None:
        try:
            return _FAST(item)
        except Decline:
            pass
    return load_api_record(item)
