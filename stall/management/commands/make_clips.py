"""``manage.py make_clips`` (``make clips``): the Vietnamese word clips the
stall page plays where the phone has no Vietnamese voice, one small Ogg Opus
file per word of ``chopay.spoken.CLIP_FILES`` in ``static/audio/vi/``.

Run at build time by a developer (needs ``espeak-ng`` and ``opusenc`` from
Debian: ``apt-get install espeak-ng opus-tools``); the files are committed,
so neither tests nor servers need espeak. Each word is spoken by espeak-ng's
Vietnamese (Northern) voice, its leading and trailing silence cut, and
encoded mono at a speech bitrate (Chromium, Firefox and Safari ≥ 17 play Ogg
Opus). ``static/audio/vi/README.md`` says how and under which licence.
"""

from __future__ import annotations

import array
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chopay.spoken import CLIP_FILES

VOICE = "vi"
WORDS_PER_MINUTE = "165"
BITRATE_KBPS = "16"
SILENCE = 600  # |sample| below this (16-bit) counts as silence
KEEP_MS = 25  # of silence kept at each end, so words do not sound clipped


def _trim(source: Path, target: Path) -> None:
    with wave.open(str(source), "rb") as wav:
        params = wav.getparams()
        samples = array.array("h", wav.readframes(params.nframes))
    loud = [i for i, sample in enumerate(samples) if abs(sample) > SILENCE]
    keep = params.framerate * KEEP_MS // 1000
    start, end = (max(loud[0] - keep, 0), min(loud[-1] + keep, len(samples))) if loud else (0, len(samples))
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(samples[start:end].tobytes())


class Command(BaseCommand):
    help = "Generate the Vietnamese word clips (static/audio/vi/*.ogg) with espeak-ng and opusenc."

    def handle(self, *args: Any, **options: Any) -> None:
        espeak, opusenc = shutil.which("espeak-ng"), shutil.which("opusenc")
        if not espeak or not opusenc:
            raise CommandError("espeak-ng or opusenc not found: apt-get install espeak-ng opus-tools")
        target = Path(settings.BASE_DIR) / "static" / "audio" / "vi"
        target.mkdir(parents=True, exist_ok=True)
        total = 0
        with tempfile.TemporaryDirectory() as tmp:
            for word, name in CLIP_FILES.items():
                raw, trimmed, clip = Path(tmp) / f"{name}.wav", Path(tmp) / f"{name}-trim.wav", target / f"{name}.ogg"
                speak = [espeak, "-v", VOICE, "-s", WORDS_PER_MINUTE, "-w", str(raw), word]
                subprocess.run(speak, check=True)  # noqa: S603 - our own words, no shell
                _trim(raw, trimmed)
                encode = [opusenc, "--quiet", "--bitrate", BITRATE_KBPS, "--downmix-mono", "--comp", "10"]
                encode += ["--discard-comments", "--padding", "0", str(trimmed), str(clip)]
                subprocess.run(encode, check=True)  # noqa: S603 - our own file names, no shell
                total += clip.stat().st_size
                self.stdout.write(f"{clip.name}: {word} ({clip.stat().st_size} bytes)")
        version = subprocess.run([espeak, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
        self.stdout.write(f"{len(CLIP_FILES)} clips, {total} bytes, by {version.stdout.strip()}")
