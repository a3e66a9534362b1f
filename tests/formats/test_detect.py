"""Loading a venue file of either format, with or without naming the format."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatmap.errors import VenueFormatError
from seatmap.formats import detect_format, load_venue_bytes, load_venue_file
from tests.formats.helpers import NATIVE_SMALL, PRETIX_SMALL, fixture_doc, load_error, write_json


def test_auto_detects_native_and_pretix_files() -> None:
    assert detect_format(fixture_doc(NATIVE_SMALL)) == "seatmap"
    assert detect_format(fixture_doc(PRETIX_SMALL)) == "pretix"
    assert load_venue_file(NATIVE_SMALL).seat_count == 66
    assert load_venue_file(PRETIX_SMALL).seat_count == 110


def test_named_format_is_used_as_given() -> None:
    assert load_venue_file(NATIVE_SMALL, format="seatmap").name == "Small Hall"
    assert load_venue_file(PRETIX_SMALL, "pretix", "Saal 2").name == "Saal 2"


def test_wrong_named_format_fails_on_the_missing_field() -> None:
    error = load_error(NATIVE_SMALL, format="pretix")
    assert (error.path, error.detail) == ("$.zones", "missing field 'zones'")
    error = load_error(PRETIX_SMALL, format="seatmap")
    assert error.path == "$.format"


@pytest.mark.parametrize("doc", [{"rows": []}, [1, 2], "venue", {"format": "other"}])
def test_content_of_no_known_format_is_refused(tmp_path: Path, doc: object) -> None:
    error = load_error(write_json(tmp_path, doc))
    assert error.path == "$"
    assert "unknown venue format" in error.detail


def test_bytes_load_like_files_and_carry_the_given_name() -> None:
    raw = PRETIX_SMALL.read_bytes()
    assert load_venue_bytes(raw).content_hash == load_venue_file(PRETIX_SMALL).content_hash
    with pytest.raises(VenueFormatError) as caught:
        load_venue_bytes(b"[1, 2,", file="upload.json")
    assert caught.value.file == "upload.json"
    assert "line 1 column 7" in caught.value.detail


def test_size_limit_applies_to_bytes_and_files(tmp_path: Path) -> None:
    with pytest.raises(VenueFormatError, match="over the limit of 10 bytes"):
        load_venue_bytes(b'{"zones": [], "name": ""}', max_bytes=10)
    assert "over the limit" in load_error(PRETIX_SMALL, max_bytes=2000).detail


def test_missing_file_is_a_format_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    error = load_error(missing)
    assert error.file == str(missing)
    assert "cannot read file" in error.detail


def test_invalid_utf8_is_not_json(tmp_path: Path) -> None:
    file = tmp_path / "latin1.json"
    file.write_bytes(b'{"name": "Saal \xfc"}')
    assert "invalid UTF-8" in load_error(file).detail


def test_unknown_format_argument_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        load_venue_file(NATIVE_SMALL, format="csv")  # type: ignore[arg-type]
