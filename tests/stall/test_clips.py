"""The Vietnamese word clips the stall page plays where the phone has no
Vietnamese voice (static/audio/vi/, made by ``make clips``, committed): one
small file per word ``chopay.spoken`` may say, with how they were made and
their licence. (That Chromium decodes each one: test_stall_in_browser.py.)"""

from __future__ import annotations

from pathlib import Path

from chopay.spoken import CLIP_FILES

CLIPS = Path(__file__).resolve().parents[2] / "static" / "audio" / "vi"


def test_every_word_has_its_small_clip():
    files = {path.stem: path.stat().st_size for path in CLIPS.glob("*.ogg")}

    assert set(files) == set(CLIP_FILES.values())
    assert all(400 < size < 8_000 for size in files.values()), files
    assert sum(files.values()) < 300_000


def test_each_clip_is_ogg_opus():
    for name in CLIP_FILES.values():
        head = (CLIPS / f"{name}.ogg").read_bytes()[:64]
        assert head.startswith(b"OggS") and b"OpusHead" in head, name


def test_the_clips_say_how_they_were_made_and_under_which_licence():
    readme = (CLIPS / "README.md").read_text()

    assert "eSpeak NG 1.51" in readme
    assert "GPL-3.0-or-later" in readme
    assert "MIT" in readme
    assert "make clips" in readme
    for name in CLIP_FILES.values():
        assert f"`{name}.ogg`" in readme
