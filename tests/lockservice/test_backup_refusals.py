"""Backups that must not be restored, and restores that fail half-way, write nothing.

A file with a flipped byte, cut short, with an edited payload under the old
checksum or of another format version is refused before anything is connected
to; a failure after Redis was written takes Redis back and rolls PostgreSQL
back. The command line is run as a user runs it, from the installed script.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lockservice import backup_restore
from lockservice.backup_capture import capture_event
from lockservice.backup_format import FORMAT_VERSION, Envelope, encode_backup
from lockservice.backup_restore import read_backup, restore_event
from lockservice.errors import BackupRejected, RestoreConflict
from lockservice.holds import Holds
from lockservice.keys import event_keys
from seatmap.context import ServiceContext
from seatmap.settings import Settings
from tests.lockservice.backup_helpers import (
    assert_same_holds,
    fresh_deployment,
    live_state,
    on_sale,
    pg_state,
    rows_and_keys,
)

ROOT = Path(__file__).resolve().parents[2]
SEATMAP = ROOT / ".venv" / "bin" / "seatmap"


def _tampered(data: bytes, how: str) -> bytes:
    """A backup file damaged in one way."""
    if how == "flipped byte":
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x40]) + data[middle + 1 :]
    if how == "truncated":
        return data[: len(data) * 2 // 3]
    envelope = msgspec.json.decode(gzip.decompress(data), type=Envelope)
    body = bytes(envelope.payload)
    if how == "checksum mismatch":  # a re-compressed, edited payload under the old checksum
        body = body.replace(b'"buyer-7"', b'"buyer-X"')
        return gzip.compress(msgspec.json.encode(msgspec.structs.replace(
            envelope, payload=msgspec.Raw(body), payload_bytes=len(body))))  # fmt: skip
    assert how == "newer version"
    return gzip.compress(
        msgspec.json.encode(msgspec.structs.replace(envelope, version=FORMAT_VERSION + 1))
    )


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("flipped byte", "damaged"),
        ("truncated", "truncated"),
        ("checksum mismatch", "checksum mismatch"),
        ("newer version", "version 2 is not supported"),
    ],
)
async def test_damaged_file_is_refused_before_anything_is_read_into_the_deployment(
    ctx: ServiceContext, holds: Holds, tmp_path: Path, how: str, message: str
) -> None:
    view = await on_sale(ctx, holds)
    data = encode_backup(await capture_event(ctx, view.event.id))
    assert hashlib.sha256(data).digest() != hashlib.sha256(_tampered(data, how)).digest()
    bad = tmp_path / "bad.seatmap-backup"
    bad.write_bytes(_tampered(data, how))
    with pytest.raises(BackupRejected, match=message):
        read_backup(bad)


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `seatmap` command, connected like `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATMAP_")}
    env.update(settings.connection_environ())
    return subprocess.run(
        [str(SEATMAP), *args], env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.slow
async def test_command_line_backup_and_restore(
    ctx: ServiceContext, holds: Holds, settings: Settings, tmp_path: Path
) -> None:
    view = await on_sale(ctx, holds)
    event_id = view.event.id
    out = tmp_path / "night.seatmap-backup"
    taken = run_cli(settings, "backup", str(event_id), "--out", str(out))
    assert taken.returncode == 0, taken.stderr
    assert "2 orders, 4 open holds, 2 blocked seats" in taken.stderr
    source_live = await live_state(ctx, event_id)

    async with fresh_deployment(settings) as target:
        for how in ("flipped byte", "truncated"):
            bad = tmp_path / f"{how}.seatmap-backup"
            bad.write_bytes(_tampered(out.read_bytes(), how))
            refused = run_cli(target.settings, "restore", str(bad))
            assert refused.returncode == 1
            line = refused.stderr.strip()
            assert line.startswith("seatmap: ") and len(line.splitlines()) == 1, line
            assert "Traceback" not in refused.stderr
            assert await rows_and_keys(target) == (0, 0)

        restored = run_cli(target.settings, "restore", str(out))
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.strip() == str(event_id)
        assert (target.settings.tiles_dir / view.venue.content_hash).is_dir()
        assert await pg_state(target, event_id) == await pg_state(ctx, event_id)
        target_live = await live_state(target, event_id)
        assert target_live.status == source_live.status
        # Started a few seconds later: only the time left may have moved on since.
        assert_same_holds(source_live, target_live, 30_000)

        again = run_cli(target.settings, "restore", str(out), "--no-render")
        assert again.returncode == 1 and "--replace" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1
        replaced = run_cli(target.settings, "restore", str(out), "--replace", "--no-render")
        assert replaced.returncode == 0, replaced.stderr
        keys = event_keys(target.settings.redis_prefix, event_id)
        assert int(await target.redis.get(keys.epoch) or 0) > target_live.epoch


async def test_a_failure_after_redis_was_written_leaves_neither_side_written(
    ctx: ServiceContext, holds: Holds, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await on_sale(ctx, holds)
    payload = await capture_event(ctx, view.event.id)
    write_live = backup_restore._write_live

    async def then_fail(*args: Any) -> None:
        await write_live(*args)
        raise ConnectionResetError("the commit was lost")

    async with fresh_deployment(settings) as target:
        monkeypatch.setattr(backup_restore, "_write_live", then_fail)
        with pytest.raises(ConnectionResetError):
            await restore_event(target, payload)
        keys = event_keys(target.settings.redis_prefix, view.event.id)
        assert await target.redis.exists(keys.epoch, keys.status, keys.expiry) == 0
        for hold in payload.holds:
            assert not await target.redis.exists(keys.hold(hold.token))
        assert (await rows_and_keys(target))[0] == 0
        monkeypatch.undo()
        # Live state that appears meanwhile (another process rebuilt the event) wins.
        write_postgres = backup_restore._write_postgres

        async def rebuilt_meanwhile(*args: Any) -> Any:
            result = await write_postgres(*args)
            await target.redis.set(keys.epoch, "7")
            return result

        monkeypatch.setattr(backup_restore, "_write_postgres", rebuilt_meanwhile)
        with pytest.raises(RestoreConflict, match="meanwhile"):
            await restore_event(target, payload)
        assert (await rows_and_keys(target))[0] == 0
        assert await target.redis.get(keys.epoch) == b"7"
