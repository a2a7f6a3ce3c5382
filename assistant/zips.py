"""Unpacking an uploaded .zip within limits: members one by one, each bad one named and skipped, never the whole zip.

Limits are checked before anything is unpacked: the entry count and central-directory size the zip declares at its
end (a 50 MB zip can hold ~415,000 empty members, and merely listing them takes seconds and hundreds of MB), then
the unpacked size of the members that would be written (a 180 KiB zip can unpack to 180 MiB). Python's zipfile
never unpacks more than a member's declared size, so the declared sizes bound what is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from litassist.index.loaders import unsupported

from litassist.assistant.errors import MemberError

MB = 1024 * 1024
NAME_BYTES = 255  # the longest file or folder name Linux, macOS and Windows file systems take
ENTRY_BYTES = 400  # central-directory bytes allowed per permitted entry: a header, a long name and extra fields
PARTIAL = ".partial-"  # a member being written; hidden, so an ingest never reads one half-written


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost: its own size, and for a zip its members and what they unpack to."""

    file_bytes: int  # one uploaded file, and one member of a zip
    unpacked_bytes: int  # every member of one zip together
    members: int  # entries of one zip (folders included)


def label(name: str) -> str:
    """A member's name as a message shows it: a very long one shortened in the middle."""
    return name if len(name) <= 60 else f"{name[:40]}…{name[-12:]}"


def declared_entries(archive: Path) -> tuple[int, int] | None:
    """(entries, central-directory bytes) the zip declares in its end record, read without listing its members."""
    with archive.open("rb") as handle:
        end = zipfile._EndRecData(handle)  # noqa: SLF001  (the standard library's own reader of that record)
    return None if end is None else (end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE])  # noqa: SLF001


def too_big(archive: Path, limits: UploadLimits) -> str | None:
    """Why the zip is refused before its member list is even read, or None."""
    declared = declared_entries(archive)
    if declared is None:
        raise zipfile.BadZipFile("no end of central directory")
    entries, directory = declared
    if entries > limits.members or directory > limits.members * ENTRY_BYTES:
        return (f"holds {entries:,} entries ({directory / MB:.1f} MB of names), over the limit of "
                f"{limits.members:,} per zip")
    return None


def member_parts(info: zipfile.ZipInfo) -> tuple[str, ...] | None:
    """The member's path as folder names, or None for a folder, or a path with '..' or a root that would escape."""
    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
    if info.is_dir() or not parts or ".." in parts or info.filename.startswith(("/", "\\")):
        return None
    return parts


def planned(zf: zipfile.ZipFile, archive_name: str, limits: UploadLimits,
            refused: list[str]) -> Iterator[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """The members to unpack; members of other formats and over the size limit are named in `refused`."""
    for info in zf.infolist():
        parts = member_parts(info)
        if parts is None:
            continue
        name = parts[-1]
        if why := unsupported(Path(name)):
            if not name.startswith("."):  # .DS_Store and friends: not worth a line
                refused.append(f"{label(name)} (in {archive_name}): {why}")
        elif info.file_size > limits.file_bytes:
            refused.append(f"{label(name)} (in {archive_name}): larger than the {limits.file_bytes / MB:g} MB "
                           "upload limit")
        else:
            yield info, parts


def extract_zip(archive: Path, target: Path, limits: UploadLimits, refused: list[str],
                archive_name: str | None = None) -> list[Path]:
    """Unpack the zip's supported members under target/<zip name without .zip>/; returns the files there. A zip over
    the limits is refused whole; a member that cannot be unpacked is named in `refused` and the others go on."""
    shown = archive_name or archive.name
    if why := too_big(archive, limits):
        refused.append(f"{shown}: {why}")
        return []
    with zipfile.ZipFile(archive) as zf:
        if len(zf.infolist()) > limits.members:  # the end record undercounted: the list itself decides
            refused.append(f"{shown}: holds {len(zf.infolist()):,} entries, over the limit of {limits.members:,} "
                           "per zip")
            return []
        members = list(planned(zf, shown, limits, refused))
        unpacked = sum(info.file_size for info, _ in members)
        if unpacked > limits.unpacked_bytes:
            refused.append(f"{shown}: unpacks to {unpacked / MB:,.1f} MB, over the limit of "
                           f"{limits.unpacked_bytes / MB:g} MB per zip")
            return []
        folder, written = target / PurePosixPath(shown).stem, []
        for info, parts in members:
            try:
                written.append(unpack(zf, info, folder, parts, written))
            except MemberError as exc:
                refused.append(f"{label(parts[-1])} (in {shown}): {exc}")
    return written


def unpack(zf: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, parts: tuple[str, ...],
           written: list[Path]) -> Path:
    """Write one member under folder (through a hidden temporary name); MemberError says why it cannot be."""
    if any(len(part.encode("utf-8", "surrogateescape")) > NAME_BYTES for part in parts):
        raise MemberError(f"a name in its path is longer than {NAME_BYTES} bytes")
    if info.flag_bits & 0x1:
        raise MemberError("encrypted (password-protected); unpack it yourself and upload the file")
    dest = folder.joinpath(*parts)
    if not dest.resolve().is_relative_to(folder.resolve()):
        raise MemberError("its path leads outside the zip's folder")
    if dest in written:
        raise MemberError("appears twice in the zip; the first copy was kept")
    if dest.is_file():  # the same zip was uploaded before: its folder is named by its content, so this is the same
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            raise MemberError("clashes with a folder of the same name in the zip")
        copy_member(zf, info, dest)
    except (FileExistsError, NotADirectoryError):
        raise MemberError("clashes with a file of the same name in the zip (a file and a folder)") from None
    except OSError as exc:
        raise MemberError(f"cannot be written ({exc.strerror or type(exc).__name__})") from None
    except ValueError:  # e.g. a NUL byte in the name
        raise MemberError("its name cannot be used as a file name") from None
    return dest


def copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    """Unpack into a hidden temporary file beside dest, then rename it: dest is never seen half written."""
    handle, name = tempfile.mkstemp(prefix=PARTIAL, dir=dest.parent)
    temporary = Path(name)
    try:
        with zf.open(info) as src, os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(temporary, dest)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise MemberError(f"corrupt in the zip ({exc})") from None
    except NotImplementedError:
        raise MemberError("compressed with a method Python cannot unpack") from None
    except RuntimeError as exc:  # zipfile's word for an encryption it cannot handle
        raise MemberError(f"cannot be unpacked ({exc})") from None
    finally:
        temporary.unlink(missing_ok=True)
