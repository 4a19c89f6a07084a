"""A model directory as one blob: a gzipped tar of its regular files (no folders, no links),
and back. The checksum is of the blob, so a worker checks what it read from the database before
unpacking it; the manifest inside still checks the checkpoint (inference.model.storage)."""
import hashlib
import io
import tarfile
from pathlib import Path

MAX_FILES = 16
MAX_BYTES = 256 * 1024 * 1024  # a model is a few MB; anything near this is not one of ours


class BlobError(Exception):
    pass


def pack(directory) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(Path(directory).iterdir()):
            if path.is_file():
                info = tar.gettarinfo(str(path), arcname=path.name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0  # the same directory always packs to the same bytes
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    return buffer.getvalue()


def sha256(blob) -> str:
    return hashlib.sha256(bytes(blob)).hexdigest()


def unpack(blob, directory, expected_sha256: str) -> Path:
    """Writes the blob's files into directory (created). Raises BlobError for a blob whose
    checksum differs, or that is not a flat tar of plain files within the bounds above."""
    blob = bytes(blob)
    if sha256(blob) != expected_sha256:
        raise BlobError("the model blob is corrupt (its checksum differs from the registry's)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_FILES or sum(m.size for m in members) > MAX_BYTES:
                raise BlobError("the model blob is larger than any model directory")
            for member in members:
                if not member.isfile() or "/" in member.name or member.name in ("", ".", ".."):
                    raise BlobError(f"the model blob holds {member.name!r}, not a plain file")
                (directory / member.name).write_bytes(tar.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BlobError(f"the model blob cannot be unpacked: {e}") from e
    return directory
