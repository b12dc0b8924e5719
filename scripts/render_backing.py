#!/usr/bin/python3
"""scripts/render_backing.py: voice-free accompaniment clips synthesised from MIDI, for the
extra "other" and "drums" pools of `duet train-sep` (separation/sepnet_corpus.h).

  harm/harm_NNNN.flac   POP909 songs without their MELODY track (the sung line): BRIDGE and
                        PIANO on random General MIDI programs (never a voice-like one), an
                        optional bass an octave or two under the piano's lowest notes
  drums/drums_NNNN.flac Groove MIDI drum performances on the avldrums kits or GM drum kits

Every clip: a random file, a random window of up to 20 s (files with less than 12 s of
content are skipped), a tempo scale 0.9-1.1 and velocity scaling, rendered by fluidsynth
(its own reverb and chorus off) through a soundfont picked at random, then sox: a random
effects chain (overdrive on some guitar parts, EQ, compand, reverb), stereo width and pan,
peak normalised to -1 dBFS minus 0-6 dB; 44.1 kHz stereo 16-bit FLAC. Clips quieter than
-45 dBFS RMS are rejected and another file is drawn. Clip k's choices depend only on the
seed, the pool and k (not on -j or on what already exists); existing clips are skipped,
so an interrupted run resumes. manifest.tsv in each folder says how each clip was made.

Python standard library only; the Standard MIDI File reader and writer are below.
Usage: scripts/render_backing.py [--out DIR] [--harm N] [--drums N] [--seed S] [-j N]
       [--midi DIR] | --self-test
"""

import argparse
import bisect
import concurrent.futures
import csv
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading

PROG = "render_backing"
SR = 44100
CLIP_SEC = 20.0             # clip length (shorter only when a file has less content)
MIN_CONTENT_SEC = 12.0      # files with less musical content are skipped
RMS_FLOOR_DB = -45.0        # quieter clips are rejected
MIN_COVERAGE = 0.6          # fraction of the window with a note sounding (harm) / 2-s bins with onsets (drums)
MAX_ATTEMPTS = 25           # files tried per clip before giving up
SECTION_GAP_MS = 5120       # silence between separately processed parts of one render (a multiple of 640 ms)


# ----------------------------------------------------------------------------------------
# Standard MIDI File reading and writing
#
# A Midi holds fmt (0, 1 or 2), division (ticks per quarter note, or the raw SMPTE word
# when bit 15 is set) and tracks: lists of events (tick, kind, a, data) in absolute ticks:
#   kind "ch"    a = status byte 0x80..0xEF, data = its 1 or 2 data bytes
#   kind "meta"  a = meta type (0x51 tempo, 0x03 track name, 0x2F end of track, ...), data
#   kind "sysex" a = 0xF0 or 0xF7, data = the bytes after the length (kept only on request)
# ----------------------------------------------------------------------------------------

class MidiError(Exception):
    pass


class Midi:
    def __init__(self, fmt=1, division=480, tracks=None):
        self.fmt = fmt
        self.division = division
        self.tracks = tracks if tracks is not None else []


def _read_vlq(data, pos, end):
    value = 0
    for _ in range(4):
        if pos >= end:
            raise MidiError("truncated variable-length quantity")
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, pos
    raise MidiError("variable-length quantity longer than 4 bytes")


def _vlq(n):
    if n < 0 or n > 0x0FFFFFFF:
        raise MidiError("value %d does not fit a variable-length quantity" % n)
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _data_len(status):
    return 1 if status & 0xF0 in (0xC0, 0xD0) else 2


def _read_track(data, pos, end, keep_sysex):
    events = []
    tick = 0
    running = None
    while pos < end:
        delta, pos = _read_vlq(data, pos, end)
        tick += delta
        if pos >= end:
            raise MidiError("truncated event")
        status = data[pos]
        if status & 0x80:
            pos += 1
        elif running is None:
            raise MidiError("data byte 0x%02x without a running status" % status)
        else:
            status = running  # running status: the byte is the first data byte
        if status < 0xF0:
            running = status
            n = _data_len(status)
            if pos + n > end:
                raise MidiError("truncated channel event")
            events.append((tick, "ch", status, bytes(data[pos:pos + n])))
            pos += n
        elif status == 0xFF:
            if pos >= end:
                raise MidiError("truncated meta event")
            mtype = data[pos]
            length, pos = _read_vlq(data, pos + 1, end)
            if pos + length > end:
                raise MidiError("truncated meta event")
            events.append((tick, "meta", mtype, bytes(data[pos:pos + length])))
            pos += length
            if mtype == 0x2F:
                break  # end of track: anything after it in the chunk is ignored
            # Meta and sysex events cancel running status in the standard; a data byte
            # after one (seen in the wild) is read with the previous status instead.
        elif status in (0xF0, 0xF7):
            length, pos = _read_vlq(data, pos, end)
            if pos + length > end:
                raise MidiError("truncated sysex event")
            if keep_sysex:
                events.append((tick, "sysex", status, bytes(data[pos:pos + length])))
            pos += length  # skipped: its delta time still counts (tick already advanced)
        else:
            raise MidiError("status byte 0x%02x is not allowed in a MIDI file" % status)
    return events


def read_midi(data, keep_sysex=False):
    """Parse Standard MIDI File bytes. Chunks other than MTrk are skipped; a chunk length
    running past the end of the file is cut to the file."""
    if len(data) < 14 or data[:4] != b"MThd":
        raise MidiError("not a Standard MIDI File (no MThd header)")
    hlen = struct.unpack(">I", data[4:8])[0]
    if hlen < 6:
        raise MidiError("MThd header too short")
    fmt, ntrks, division = struct.unpack(">HHH", data[8:14])
    if fmt > 2:
        raise MidiError("unknown MIDI file format %d" % fmt)
    if division == 0:
        raise MidiError("zero time division")
    midi = Midi(fmt, division)
    pos = 8 + hlen
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        clen = struct.unpack(">I", data[pos + 4:pos + 8])[0]
        start = pos + 8
        end = min(start + clen, len(data))
        if cid == b"MTrk":
            midi.tracks.append(_read_track(data, start, end, keep_sysex))
        pos = start + clen
    if not midi.tracks:
        raise MidiError("no MTrk chunk")
    return midi


def read_midi_file(path, keep_sysex=False):
    with open(path, "rb") as f:
        return read_midi(f.read(), keep_sysex)


_ORDER = {"meta": 0, "sysex": 0}


def event_order(ev):
    """Sort key inside a tick: meta, sysex and controls first, note-offs before note-ons."""
    tick, kind, a, data = ev
    if kind != "ch":
        return (tick, 0)
    st = a & 0xF0
    if st == 0x80 or (st == 0x90 and data[1] == 0):
        return (tick, 2)
    if st == 0x90:
        return (tick, 3)
    return (tick, 1)


def write_midi(midi, running_status=True):
    """Standard MIDI File bytes; channel events use running status (unless told not to), an
    end-of-track meta is added to a track that does not end with one. Events must be in
    tick order."""
    out = [b"MThd", struct.pack(">IHHH", 6, midi.fmt, len(midi.tracks), midi.division)]
    for track in midi.tracks:
        body = bytearray()
        last = 0
        running = None
        for tick, kind, a, data in track:
            if tick < last:
                raise MidiError("events out of order (tick %d after %d)" % (tick, last))
            body += _vlq(tick - last)
            last = tick
            if kind == "ch":
                if not 0x80 <= a <= 0xEF or len(data) != _data_len(a):
                    raise MidiError("bad channel event 0x%02x %r" % (a, data))
                if a != running or not running_status:
                    body.append(a)
                    running = a
                body += data
            elif kind == "meta":
                body += bytes([0xFF, a]) + _vlq(len(data)) + data
                running = None
            elif kind == "sysex":
                body += bytes([a]) + _vlq(len(data)) + data
                running = None
            else:
                raise MidiError("unknown event kind %r" % kind)
        if not track or track[-1][1] != "meta" or track[-1][2] != 0x2F:
            body += b"\x00\xff\x2f\x00"
        out += [b"MTrk", struct.pack(">I", len(body)), bytes(body)]
    return b"".join(out)


def track_name(track):
    for _, kind, a, data in track:
        if kind == "meta" and a == 0x03:
            return data.decode("latin-1").strip()
    return ""


class TempoMap:
    """Ticks to seconds under the file's tempo events (all tracks; 120 bpm until the first)."""

    def __init__(self, midi):
        div = midi.division
        if div & 0x8000:  # SMPTE: frames per second (negative byte) x ticks per frame
            fps = 256 - (div >> 8)
            self.smpte = 1.0 / (fps * (div & 0xFF) or 1)
            return
        self.smpte = None
        self.div = div
        tempos = sorted((t, int.from_bytes(d, "big")) for tr in midi.tracks for t, k, a, d in tr
                        if k == "meta" and a == 0x51 and len(d) == 3)
        self.ticks, self.secs, self.uspq = [0], [0.0], [500000]
        for t, u in tempos:
            if u <= 0:
                continue
            if t == self.ticks[-1]:
                self.uspq[-1] = u
                continue
            self.secs.append(self.secs[-1] + (t - self.ticks[-1]) * self.uspq[-1] / 1e6 / div)
            self.ticks.append(t)
            self.uspq.append(u)

    def sec(self, tick):
        if self.smpte is not None:
            return tick * self.smpte
        i = bisect.bisect_right(self.ticks, tick) - 1
        return self.secs[i] + (tick - self.ticks[i]) * self.uspq[i] / 1e6 / self.div


def track_notes(track, tmap, channel=None, unmatched_sec=1.0):
    """Notes (on_sec, off_sec, pitch, velocity) and sustain-pedal events (sec, value) of a
    track (only `channel` when given). A note-on with velocity 0 is a note-off; repeated
    notes pair first-in first-out; a note never released lasts unmatched_sec."""
    pending = {}
    notes, pedal = [], []
    for tick, kind, a, data in track:
        if kind != "ch" or (channel is not None and a & 15 != channel):
            continue
        st = a & 0xF0
        if st == 0x90 and data[1] > 0:
            pending.setdefault((a & 15, data[0]), []).append((tick, data[1]))
        elif st in (0x80, 0x90):
            q = pending.get((a & 15, data[0]))
            if q:
                t0, vel = q.pop(0)
                notes.append((tmap.sec(t0), tmap.sec(tick), data[0], vel))
        elif st == 0xB0 and data[0] == 64:
            pedal.append((tmap.sec(tick), data[1]))
    for (ch, pitch), q in pending.items():
        for t0, vel in q:
            s = tmap.sec(t0)
            notes.append((s, s + unmatched_sec, pitch, vel))
    notes.sort()
    return notes, pedal


# ----------------------------------------------------------------------------------------
# General MIDI programs (0-based) for the POP909 parts
# ----------------------------------------------------------------------------------------

VOICE_PROGRAMS = frozenset({52, 53, 54, 85})  # choir aahs, voice oohs, synth voice, lead 6 (voice)
# Also never used: 91 pad 4 (choir) and 94 pad 7 (halo), voice-like too; 55 orchestra hit.

GM_NAMES = {
    0: "acoustic grand", 1: "bright piano", 2: "electric grand", 3: "honky-tonk",
    4: "e-piano 1", 5: "e-piano 2", 16: "drawbar organ", 17: "percussive organ",
    18: "rock organ", 19: "church organ", 24: "nylon guitar", 25: "steel guitar",
    26: "jazz guitar", 27: "clean guitar", 28: "muted guitar", 29: "overdriven guitar",
    30: "distortion guitar", 32: "acoustic bass", 33: "finger bass", 34: "pick bass",
    35: "fretless bass", 36: "slap bass 1", 37: "slap bass 2", 38: "synth bass 1",
    39: "synth bass 2", 40: "violin", 42: "cello", 44: "tremolo strings", 45: "pizzicato",
    46: "harp", 48: "strings 1", 49: "strings 2", 50: "synth strings 1", 51: "synth strings 2",
    56: "trumpet", 57: "trombone", 60: "french horn", 61: "brass section", 62: "synth brass 1",
    63: "synth brass 2", 88: "pad new age", 89: "pad warm", 90: "pad polysynth",
    92: "pad bowed", 93: "pad metallic", 95: "pad sweep",
}

FAMILIES = {
    "piano": [0, 1, 2, 3],
    "epiano": [4, 5],
    "organ": [16, 17, 18, 19],
    "guitar": [24, 25, 26, 27, 28],
    "distorted": [29, 30],
    "strings": [40, 42, 44, 45, 46, 48, 49, 50, 51],
    "brass": [56, 57, 60, 61, 62, 63],
    "pad": [88, 89, 90, 92, 93, 95],
}
BASS_PROGRAMS = [32, 33, 34, 35, 36, 37, 38, 39]
ROLE_WEIGHTS = {  # family weights per POP909 part
    "PIANO": {"piano": 20, "epiano": 12, "organ": 11, "guitar": 15, "distorted": 12,
              "strings": 12, "brass": 5, "pad": 13},
    "BRIDGE": {"piano": 10, "epiano": 10, "organ": 9, "guitar": 13, "distorted": 10,
               "strings": 22, "brass": 14, "pad": 12},
}
P_BASS = 0.35
GUITARS = frozenset(FAMILIES["guitar"] + FAMILIES["distorted"])

for _fam in list(FAMILIES.values()) + [BASS_PROGRAMS]:
    assert not VOICE_PROGRAMS & set(_fam) and all(p in GM_NAMES for p in _fam)


def choose_program(rng, role):
    fams = sorted(ROLE_WEIGHTS[role])
    fam = rng.choices(fams, weights=[ROLE_WEIGHTS[role][f] for f in fams])[0]
    return rng.choice(FAMILIES[fam])


def choose_programs(rng):
    """{"BRIDGE": p, "PIANO": p[, "BASS": p]}, General MIDI programs 0..127."""
    progs = {"BRIDGE": choose_program(rng, "BRIDGE"), "PIANO": choose_program(rng, "PIANO")}
    if rng.random() < P_BASS:
        progs["BASS"] = rng.choice(BASS_PROGRAMS)
    for p in progs.values():
        if p in VOICE_PROGRAMS:
            raise AssertionError("voice program %d chosen" % p)
    return progs


# Groove MIDI (Roland TD-11 articulations) to General MIDI drum keys.
GROOVE_TO_GM = {22: 42, 26: 46, 58: 43, 55: 49, 52: 57, 35: 36}  # (the avldrums kits have keys 36-69)
GM_KITS = [0, 8, 16, 24, 25, 32, 40]  # standard, room, power, electronic, TR-808, jazz, brush


# ----------------------------------------------------------------------------------------
# Soundfonts and tools
# ----------------------------------------------------------------------------------------

SOUNDFONTS = {  # name: (candidate paths, Debian package)
    "FluidR3_GM": (["/usr/share/sounds/sf2/FluidR3_GM.sf2"], "fluid-soundfont-gm"),
    "MuseScore_General": (["/usr/share/sounds/sf3/MuseScore_General.sf3",
                           "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
                           "/usr/share/sounds/sf2/MuseScore_General.sf2",
                           "/usr/share/sounds/sf3/MuseScore_General_Full.sf3"],
                          "musescore-general-soundfont-small"),
    "TimGM6mb": (["/usr/share/sounds/sf2/TimGM6mb.sf2"], "timgm6mb-soundfont"),
    "Black_Pearl": (["/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2",
                     "/usr/lib/lv2/avldrums.lv2/Black_Pearl_4_LV2.sf2"], "avldrums.lv2-soundfont"),
    "Red_Zeppelin": (["/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2",
                      "/usr/lib/lv2/avldrums.lv2/Red_Zeppelin_4_LV2.sf2"], "avldrums.lv2-soundfont"),
}
HARM_FONTS = [("FluidR3_GM", 1), ("MuseScore_General", 1), ("TimGM6mb", 1)]
DRUM_FONTS = [("Black_Pearl", 35), ("Red_Zeppelin", 35), ("FluidR3_GM", 10),
              ("MuseScore_General", 10), ("TimGM6mb", 10)]
AVL_KITS = frozenset({"Black_Pearl", "Red_Zeppelin"})


class Fatal(Exception):
    """An error that stops the run (missing tool, soundfont, data; repeated failures)."""


def find_soundfonts():
    found, missing = {}, []
    for name, (paths, pkg) in SOUNDFONTS.items():
        path = next((p for p in paths if os.path.isfile(p)), None)
        if path is None:
            missing.append("%s (Debian package %s; looked for %s)" % (name, pkg, paths[0]))
        else:
            found[name] = path
    if missing:
        raise Fatal("soundfont not found: " + "; ".join(missing) + " (`make backing` installs them)")
    return found


def check_tools():
    for tool, pkg in (("fluidsynth", "fluidsynth"), ("sox", "sox"), ("soxi", "sox")):
        if shutil.which(tool) is None:
            raise Fatal("%s not found on PATH (Debian package %s)" % (tool, pkg))


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise RenderError("%s failed (exit %d): %s" % (what, p.returncode, (p.stderr or p.stdout).strip()[-400:]))
    return p


class RenderError(Exception):
    """One clip attempt failed in a tool; another file is tried."""


def sox_stats(path):
    """(peak dBFS, RMS dBFS, seconds) of an audio file (sox stats, all channels)."""
    p = run(["sox", path, "-n", "stats"], "sox stats")
    vals = {}
    for line in p.stderr.splitlines():
        m = re.match(r"(Pk lev dB|RMS lev dB|Length s)\s+(\S+)", line)
        if m:
            vals[m.group(1)] = float(m.group(2)) if m.group(2) not in ("-inf", "inf") else -math.inf
    try:
        return vals["Pk lev dB"], vals["RMS lev dB"], vals["Length s"]
    except KeyError:
        raise RenderError("sox stats: unexpected output for %s" % path)


def soxi(path, flag):
    return run(["soxi", flag, path], "soxi").stdout.strip()


# ----------------------------------------------------------------------------------------
# Clip plans: what to render (pure functions of the random generator and the source)
# ----------------------------------------------------------------------------------------

def coverage(notes, t0, t1):
    """Fraction of [t0, t1] with at least one note sounding."""
    iv = sorted((max(a, t0), min(b, t1)) for a, b, _, _ in notes if b > t0 and a < t1)
    covered, cur_a, cur_b = 0.0, None, None
    for a, b in iv:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                covered += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        covered += cur_b - cur_a
    return covered / (t1 - t0) if t1 > t0 else 0.0


def onset_coverage(notes, t0, t1, bin_sec=2.0):
    """Fraction of bin_sec bins of [t0, t1] with at least one onset."""
    nb = max(1, int((t1 - t0) // bin_sec))
    hit = set(int((a - t0) // bin_sec) for a, _, _, _ in notes if t0 <= a < t0 + nb * bin_sec)
    return len(hit) / nb


def pick_window(rng, notes, clip_sec, tempo, cover_fn):
    """A window (start, source length, output length) of the notes or None when the
    content is too short or every tried window is too sparse."""
    first = min(a for a, _, _, _ in notes)
    last = max(b for _, b, _, _ in notes)
    if last - first < MIN_CONTENT_SEC:
        return None
    src = min(clip_sec * tempo, last - first)
    for _ in range(8):
        t0 = round(rng.uniform(first, last - src), 3)
        if cover_fn(notes, t0, t0 + src) >= MIN_COVERAGE:
            return t0, src, src / tempo
    return None


def window_notes(notes, pedal, t0, src, tempo, vel_scale, rng, vel_jitter):
    """Notes of [t0, t0 + src) in output seconds (time scaled by 1 / tempo), velocities
    scaled; notes sounding at t0 restart at 0, notes sounding at the end stop there."""
    out_len = src / tempo
    out = []
    for a, b, pitch, vel in notes:
        if b <= t0 + 0.05 or a >= t0 + src:
            continue
        on = max(0.0, (a - t0) / tempo)
        off = min(out_len, (b - t0) / tempo)
        v = vel * vel_scale * rng.uniform(1 - vel_jitter, 1 + vel_jitter)
        out.append((on, off, pitch, max(1, min(127, int(round(v))))))
    ped = []
    if pedal:
        before = [v for t, v in pedal if t <= t0]
        if before:
            ped.append((0.0, before[-1]))
        ped += [((t - t0) / tempo, v) for t, v in pedal if t0 < t < t0 + src]
        ped.append((out_len, 0))
    return out, ped


def bass_line(piano_notes, max_pitch=52, low=28):
    """A monophonic bass from the lowest note of each piano onset group (onsets within 40 ms)
    that lies below middle C, lowered by octaves to at most max_pitch."""
    groups = []
    for n in sorted(piano_notes):
        if groups and n[0] - groups[-1][0][0] < 0.04:
            groups[-1].append(n)
        else:
            groups.append([n])
    line = []
    for g in groups:
        a, b, pitch, vel = min(g, key=lambda n: n[2])
        if pitch >= 60:
            continue
        p = pitch - 12
        while p > max_pitch:
            p -= 12
        if p < low:
            p += 12
        line.append([a, b, p, vel])
    for i in range(len(line) - 1):  # monophonic: a note ends where the next begins
        line[i][1] = min(line[i][1], line[i + 1][0])
    return [tuple(n) for n in line if n[1] - n[0] > 0.02]


class Part:
    def __init__(self, name, channel, program, notes, pedal=(), volume=100, pan=64, drum_kit=False):
        self.name, self.channel, self.program = name, channel, program
        self.notes, self.pedal = notes, list(pedal)
        self.volume, self.pan, self.drum_kit = volume, pan, drum_kit


def section_stride_ms(out_len):
    """Offset between separately processed sections of one render: past the clip and a gap,
    rounded up to 640 ms (a whole number of both milliseconds and 64-sample blocks)."""
    return int(math.ceil((out_len * 1000 + SECTION_GAP_MS) / 640.0)) * 640


def build_midi(sections, out_len, title):
    """A format-1 MIDI file (1 tick = 1 ms at 120 bpm) of the sections' parts, section i
    starting at i * section_stride_ms(out_len)."""
    stride = section_stride_ms(out_len)
    end_ms = (len(sections) - 1) * stride + int(round(out_len * 1000)) + 300
    conductor = [(0, "meta", 0x03, title.encode("latin-1", "replace")),
                 (0, "meta", 0x51, (500000).to_bytes(3, "big")),
                 (0, "meta", 0x58, bytes([4, 2, 24, 8])),
                 (end_ms, "meta", 0x2F, b"")]
    tracks = [conductor]
    for si, parts in enumerate(sections):
        off = si * stride
        for part in parts:
            ch = part.channel
            ev = [(off, "meta", 0x03, part.name.encode("latin-1")),
                  (off, "ch", 0xC0 | ch, bytes([part.program])),
                  (off, "ch", 0xB0 | ch, bytes([7, part.volume])),
                  (off, "ch", 0xB0 | ch, bytes([10, part.pan])),
                  (off, "ch", 0xB0 | ch, bytes([11, 127])),
                  (off, "ch", 0xB0 | ch, bytes([91, 0])),
                  (off, "ch", 0xB0 | ch, bytes([93, 0]))]
            for t, v in part.pedal:
                ev.append((off + int(round(t * 1000)), "ch", 0xB0 | ch, bytes([64, v])))
            for a, b, pitch, vel in part.notes:
                ta, tb = off + int(round(a * 1000)), off + int(round(b * 1000))
                if tb <= ta:
                    tb = ta + 1
                ev.append((ta, "ch", 0x90 | ch, bytes([pitch, vel])))
                ev.append((tb, "ch", 0x80 | ch, bytes([pitch, 0])))
            ev.sort(key=event_order)
            ev.append((max(ev[-1][0], off), "meta", 0x2F, b""))
            tracks.append(ev)
    return Midi(1, 500, tracks)


def eq_effects(rng, strength=1.0):
    fx = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        f = int(round(math.exp(rng.uniform(math.log(150), math.log(7000)))))
        fx += ["equalizer", str(f), "%.2fq" % rng.uniform(0.7, 2.0), "%+.1f" % (strength * rng.uniform(-6, 6))]
    if rng.random() < 0.5:
        fx += ["bass", "%+.1f" % (strength * rng.uniform(-5, 6))]
    if rng.random() < 0.5:
        fx += ["treble", "%+.1f" % (strength * rng.uniform(-6, 4))]
    return fx


def compand_effect(rng):
    thr = rng.uniform(-32, -14)
    ratio = rng.uniform(2, 5)
    return ["compand", "%.3f,%.2f" % (rng.uniform(0.003, 0.04), rng.uniform(0.1, 0.5)),
            "6:-80,-80,%.1f,%.1f,0,%.1f" % (thr, thr, thr - thr / ratio), "0", "-90", "0.05"]


def reverb_effect(rng, light):
    if light:
        return ["reverb", "%d" % rng.uniform(5, 35), "%d" % rng.uniform(30, 80), "%d" % rng.uniform(10, 50),
                "%d" % rng.uniform(50, 100), "%d" % rng.uniform(0, 10), "%.1f" % rng.uniform(-10, -4)]
    return ["reverb", "%d" % rng.uniform(15, 75), "%d" % rng.uniform(20, 80), "%d" % rng.uniform(30, 100),
            "%d" % rng.uniform(50, 100), "%d" % rng.uniform(0, 30), "%.1f" % rng.uniform(-6, 0)]


def width_effect(rng, width_lo, pan_max):
    w = rng.uniform(width_lo, 1.0)
    p = rng.uniform(-pan_max, pan_max)
    a, b = (1 + w) / 2, (1 - w) / 2
    gl, gr = min(1.0, 1 - p), min(1.0, 1 + p)
    return ["remix", "1v%.3f,2v%.3f" % (gl * a, gl * b), "1v%.3f,2v%.3f" % (gr * b, gr * a)]


class Plan:
    """One clip attempt: the MIDI to render, the soundfont, the sox chains."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def plan_harm(rng, path, midi, clip_sec=CLIP_SEC):
    """A harm clip from a POP909-like file (MELODY dropped), or None (skip this file)."""
    tmap = TempoMap(midi)
    parts = {}
    for tr in midi.tracks:
        name = track_name(tr).upper()
        if name in ("BRIDGE", "PIANO"):
            notes, pedal = track_notes(tr, tmap, unmatched_sec=2.0)
            if notes:
                parts[name] = (notes, pedal)
    if not parts:
        return None
    all_notes = [n for notes, _ in parts.values() for n in notes]
    tempo = round(rng.uniform(0.9, 1.1), 4)
    win = pick_window(rng, all_notes, clip_sec, tempo, coverage)
    if win is None:
        return None
    t0, src, out_len = win
    progs = choose_programs(rng)
    if "PIANO" not in parts:
        progs.pop("BASS", None)
    roles = [r for r in ("BRIDGE", "PIANO") if r in parts] + (["BASS"] if "BASS" in progs else [])
    section_of = {}
    drive = {}
    for role in roles:
        p = progs[role]
        if p in GUITARS and rng.random() < (0.35 if p in (29, 30) else 0.6):
            drive[role] = ["gain", "-n", "-3", "overdrive", "%.1f" % rng.uniform(6, 22), "%.1f" % rng.uniform(10, 40),
                           "lowpass", "%d" % rng.uniform(3500, 7500), "highpass", "%d" % rng.uniform(70, 140)]
    sections = [[]]
    part_fx = [[]]
    for role in roles:
        if role in drive:
            sections.append([])
            part_fx.append(drive[role])
            section_of[role] = len(sections) - 1
        else:
            section_of[role] = 0
    out_parts = []
    for ch, role in enumerate(roles):
        if role == "BASS":
            notes, pedal = window_notes(bass_line(parts["PIANO"][0]), [], t0, src, tempo,
                                        rng.uniform(0.7, 1.1), rng, 0.05)
            vol = rng.randint(85, 115)
            pan = rng.randint(56, 72)
        else:
            notes, pedal = window_notes(parts[role][0], parts[role][1], t0, src, tempo,
                                        rng.uniform(0.65, 1.2), rng, 0.08)
            vol = rng.randint(80, 120)
            pan = rng.randint(28, 100)
        out_parts.append(Part(role, ch, progs[role], notes, pedal, vol, pan))
        sections[section_of[role]].append(out_parts[-1])
    if not sections[0]:
        sections.pop(0)
        part_fx.pop(0)
    if len(sections) > 1:  # balance separately processed sections before they are mixed
        part_fx = [fx + ["gain", "-n", "%.1f" % -rng.uniform(1, 7)] for fx in part_fx]
    bus = ["gain", "-n", "-12"] + eq_effects(rng)  # headroom for EQ boosts and reverb
    if rng.random() < 0.4:
        bus += compand_effect(rng)
    if rng.random() < 0.65:
        bus += reverb_effect(rng, light=False)
    bus += width_effect(rng, 0.45, 0.3)
    fonts, weights = zip(*HARM_FONTS)
    return Plan(kind="harm", source=path, font=rng.choices(fonts, weights)[0],
                programs=" ".join("%s:%d" % (r, progs[r]) for r in roles),
                program_names=", ".join("%s %s" % (r, GM_NAMES[progs[r]]) for r in roles),
                start=t0, tempo=tempo, out_len=out_len,
                midi=build_midi(sections, out_len, "harm %s" % os.path.basename(path)),
                section_fx=part_fx, bus_fx=bus, synth_gain=round(rng.uniform(0.2, 0.4), 3),
                peak_db=round(-1 - rng.uniform(0, 6), 2))


def plan_drums(rng, path, midi, clip_sec=CLIP_SEC):
    """A drums clip from a Groove MIDI file (channel 10), or None (skip this file)."""
    tmap = TempoMap(midi)
    notes = []
    for tr in midi.tracks:
        n, _ = track_notes(tr, tmap, channel=9, unmatched_sec=0.3)
        notes += n
    if len(notes) < 8:
        return None
    notes = sorted((a, b, GROOVE_TO_GM.get(p, p), v) for a, b, p, v in notes)
    # A drum sounds until the same key strikes again (at most 2 s): the performance's short
    # note-offs would cut kits whose samples stop at note-off (the avldrums kits ignore them).
    nxt = {}
    for i in range(len(notes) - 1, -1, -1):
        a, b, p, v = notes[i]
        notes[i] = (a, max(a + 0.01, min(a + 2.0, nxt.get(p, a + 2.0))), p, v)
        nxt[p] = a
    tempo = round(rng.uniform(0.9, 1.1), 4)
    win = pick_window(rng, notes, clip_sec, tempo, onset_coverage)
    if win is None:
        return None
    t0, src, out_len = win
    fonts, weights = zip(*DRUM_FONTS)
    font = rng.choices(fonts, weights)[0]
    wn, _ = window_notes(notes, [], t0, src, tempo, rng.uniform(0.75, 1.15), rng, 0.06)
    if font in AVL_KITS:  # the kit is preset 0 of bank 0: a melodic channel
        part = Part("DRUMS", 0, 0, wn, volume=rng.randint(95, 120))
        prog_desc = "DRUMS:avl"
    else:
        kit = rng.choice(GM_KITS)
        part = Part("DRUMS", 9, kit, wn, volume=rng.randint(95, 120))
        prog_desc = "DRUMS:128-%d" % kit
    bus = ["gain", "-n", "-12"] + eq_effects(rng, strength=0.7)
    if rng.random() < 0.5:
        bus += compand_effect(rng)
    if rng.random() < 0.5:
        bus += reverb_effect(rng, light=True)
    bus += width_effect(rng, 0.6, 0.15)
    return Plan(kind="drums", source=path, font=font, programs=prog_desc, program_names="",
                start=t0, tempo=tempo, out_len=out_len,
                midi=build_midi([[part]], out_len, "drums %s" % os.path.basename(path)),
                section_fx=[[]], bus_fx=bus, synth_gain=round(rng.uniform(0.2, 0.4), 3),
                peak_db=round(-1 - rng.uniform(0, 6), 2))


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------

def render_plan(plan, fonts, out_path, work):
    """Render plan to out_path (16-bit stereo 44.1 kHz FLAC); (peak dB, RMS dB, seconds)."""
    mid = os.path.join(work, "clip.mid")
    with open(mid, "wb") as f:
        f.write(write_midi(plan.midi))
    gain = plan.synth_gain
    stride = section_stride_ms(plan.out_len) / 1000.0
    for _ in range(4):  # fluidsynth's float output above full scale would clip in sox: lower the gain
        raw = os.path.join(work, "raw.wav")
        run(["fluidsynth", "-n", "-i", "-q", "-R", "0", "-C", "0", "-r", str(SR), "-g", "%.3f" % gain,
             "-O", "float", "-T", "wav", "-F", raw, fonts[plan.font], mid], "fluidsynth")
        if not os.path.isfile(raw) or os.path.getsize(raw) < 1000:
            raise RenderError("fluidsynth wrote no audio")
        secs = []
        clipped = False
        for i, fx in enumerate(plan.section_fx):
            sec = os.path.join(work, "sec%d.wav" % i)
            p = run(["sox", "-R", "-V2", raw, "-e", "floating-point", "-b", "32", sec,
                     "trim", "%.6f" % (i * stride), "%.6f" % plan.out_len] + fx, "sox (section)")
            clipped |= "input clipped" in p.stderr
            secs.append(sec)
        if not clipped:
            break
        gain /= 2
    else:
        raise RenderError("fluidsynth output clips even at gain %.3f" % gain)
    head = ["sox", "-R"] + (["-m"] + secs if len(secs) > 1 else secs)
    p = run(head + ["-r", str(SR), "-c", "2", "-b", "16", "-e", "signed-integer", "-t", "flac", out_path]
            + plan.bus_fx + ["gain", "-n", "%.2f" % plan.peak_db], "sox (mix)")
    plan.synth_gain = gain
    plan.warnings = " ".join(l.strip() for l in p.stderr.splitlines() if "clipped" in l)
    return sox_stats(out_path)


MANIFEST_COLS = ["file", "source_midi", "soundfont", "programs", "window_start_s", "tempo_scale",
                 "seconds", "rms_dbfs", "peak_dbfs", "effects", "seed", "attempt", "instruments"]


def clip_rng(seed, kind, k, attempt):
    return random.Random("render_backing/%s/%s/%d/%d" % (seed, kind, k, attempt))


def render_clip(kind, k, seed, files, midi_root, fonts, out_dir, clip_sec=CLIP_SEC, log=None):
    """Render clip k of a pool ("harm" or "drums"); its manifest row. Attempt a = 0, 1, ...
    draws from its own generator, so the result depends only on (seed, kind, k)."""
    name = "%s_%04d.flac" % (kind, k)
    final = os.path.join(out_dir, name)
    part = os.path.join(out_dir, ".%s.part" % name)
    failures = []
    skipped = quiet = 0
    for attempt in range(MAX_ATTEMPTS):
        rng = clip_rng(seed, kind, k, attempt)
        path = rng.choice(files)
        try:
            midi = read_midi_file(path)
        except (OSError, MidiError) as e:
            failures.append("%s: %s" % (path, e))
            continue
        plan = (plan_harm if kind == "harm" else plan_drums)(rng, path, midi, clip_sec)
        if plan is None:
            skipped += 1
            continue  # too short or too sparse: another file
        with tempfile.TemporaryDirectory(prefix="render_backing_") as work:
            try:
                peak, rms, secs = render_plan(plan, fonts, part, work)
            except RenderError as e:
                failures.append("%s: %s" % (os.path.basename(path), e))
                if os.path.exists(part):
                    os.unlink(part)
                if len(failures) >= 5:
                    raise Fatal("clip %s: renders keep failing; last: %s" % (name, failures[-1]))
                continue
        if rms < RMS_FLOOR_DB or secs < plan.out_len - 0.1:
            os.unlink(part)
            quiet += 1
            if log:
                log("%s: attempt %d rejected (%s, RMS %.1f dBFS, %.2f s)" % (name, attempt,
                    os.path.basename(path), rms, secs))
            continue
        os.replace(part, final)
        if plan.warnings and log:
            log("%s: sox: %s" % (name, plan.warnings))
        fx = list(plan.bus_fx)
        for i, s in enumerate(plan.section_fx):
            if s and len(plan.section_fx) > 1:
                fx = ["[section%d:" % i] + s + ["]"] + fx
        return {"file": name, "source_midi": os.path.relpath(path, midi_root),
                "soundfont": os.path.basename(os.path.realpath(fonts[plan.font])),
                "programs": plan.programs, "window_start_s": "%.3f" % plan.start,
                "tempo_scale": "%.4f" % plan.tempo, "seconds": "%.3f" % secs,
                "rms_dbfs": "%.2f" % rms, "peak_dbfs": "%.2f" % peak,
                "effects": " ".join(fx + ["gain", "-n", "%.2f" % plan.peak_db,
                                          "(fluidsynth -g %.3f)" % plan.synth_gain]),
                "seed": str(seed), "attempt": str(attempt), "instruments": plan.program_names}
    raise Fatal("clip %s: no usable file in %d attempts (%d too short or sparse, %d below %g dBFS RMS, "
                "%d unreadable or failed)%s" % (name, MAX_ATTEMPTS, skipped, quiet, RMS_FLOOR_DB, len(failures),
                                                (": " + failures[-1]) if failures else ""))


# ----------------------------------------------------------------------------------------
# Sources, manifests, the run
# ----------------------------------------------------------------------------------------

def pop909_files(midi_root):
    d = os.path.join(midi_root, "pop909")
    if not os.path.isdir(d):
        raise Fatal("MIDI folder %s not found (expected pop909/ and groove/ under --midi)" % d)
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(".mid"))
    if not files:
        raise Fatal("no .mid files in %s" % d)
    return files


def groove_files(midi_root):
    d = os.path.join(midi_root, "groove")
    info = os.path.join(d, "info.csv")
    if not os.path.isfile(info):
        raise Fatal("%s not found (the Groove MIDI Dataset's file list)" % info)
    files = []
    with open(info, newline="") as f:
        for row in csv.DictReader(f):
            try:
                long_enough = float(row["duration"]) >= MIN_CONTENT_SEC
            except (KeyError, ValueError):
                long_enough = True  # unknown: the window picker decides
            path = os.path.join(d, row.get("midi_filename", ""))
            if long_enough and os.path.isfile(path):
                files.append(path)
    if not files:
        raise Fatal("no Groove MIDI files of %g s or more listed in %s" % (MIN_CONTENT_SEC, info))
    return sorted(files)


def read_manifest(path):
    rows = {}
    if os.path.isfile(path):
        with open(path, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row.get("file"):
                    rows[row["file"]] = row
    return rows


def write_manifest(path, rows):
    tmp = path + ".part"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, MANIFEST_COLS, delimiter="\t", extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for name in sorted(rows):
            w.writerow(rows[name])
    os.replace(tmp, path)


def main_render(args):
    check_tools()
    fonts = find_soundfonts()
    midi_root = os.path.abspath(os.path.expanduser(args.midi))
    if not os.path.isdir(midi_root):
        raise Fatal("MIDI folder %s not found (--midi)" % midi_root)
    out_root = os.path.abspath(os.path.expanduser(args.out))
    pools = {}
    if args.harm > 0:
        pools["harm"] = pop909_files(midi_root)
    if args.drums > 0:
        pools["drums"] = groove_files(midi_root)
    counts = {"harm": args.harm, "drums": args.drums}
    manifests, dirs, todo = {}, {}, []
    for kind in pools:
        d = os.path.join(out_root, kind)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):  # leftovers of an interrupted run
            if f.startswith(".%s_" % kind) and f.endswith(".part"):
                os.unlink(os.path.join(d, f))
        rows = read_manifest(os.path.join(d, "manifest.tsv"))
        other = {r["seed"] for r in rows.values()} - {str(args.seed)}
        if other:
            raise Fatal("%s holds clips of seed %s, not %s: use another --out" % (d, ",".join(sorted(other)), args.seed))
        rows = {n: r for n, r in rows.items() if os.path.isfile(os.path.join(d, n))}
        manifests[kind], dirs[kind] = rows, d
    for k in range(max(counts.values())):  # harm and drums interleaved
        for kind in pools:
            if k < counts[kind] and "%s_%04d.flac" % (kind, k) not in manifests[kind]:
                todo.append((kind, k))
    lock = threading.Lock()
    done = {"n": 0}
    stop = threading.Event()

    def log(msg):
        with lock:
            print(msg, file=sys.stderr, flush=True)

    def job(kind, k):
        if stop.is_set():
            return None
        row = render_clip(kind, k, args.seed, pools[kind], midi_root, fonts, dirs[kind], log=log)
        with lock:
            manifests[kind][row["file"]] = row
            write_manifest(os.path.join(dirs[kind], "manifest.tsv"), manifests[kind])
            done["n"] += 1
            print("%s %d/%d %s  %s  %s  RMS %s dBFS" % (PROG, done["n"], len(todo), row["file"],
                  row["source_midi"], row["soundfont"], row["rms_dbfs"]), flush=True)
        return row

    for kind in pools:  # rows of clips already there, even when nothing is left to render
        write_manifest(os.path.join(dirs[kind], "manifest.tsv"), manifests[kind])
    print("%s: %d clips to render, %d present, into %s" % (PROG, len(todo),
          sum(len(m) for m in manifests.values()), out_root), flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = [ex.submit(job, kind, k) for kind, k in todo]
        try:
            for fu in concurrent.futures.as_completed(futs):
                fu.result()
        except BaseException:
            stop.set()
            for fu in futs:
                fu.cancel()
            raise
    return 0


# ----------------------------------------------------------------------------------------
# Self-test
# ----------------------------------------------------------------------------------------

def synthetic_pop909(seconds=30.0):
    """A POP909-like file: tempo track, MELODY (pitches 96..100), BRIDGE, PIANO (with pedal)."""
    div = 480
    q = div  # one quarter = 0.5 s at 120 bpm, but the file says 100 bpm (0.6 s)
    n_q = int(seconds / 0.6)
    tempo = [(0, "meta", 0x51, (600000).to_bytes(3, "big")), (0, "meta", 0x58, bytes([4, 2, 24, 8])),
             (n_q * q, "meta", 0x2F, b"")]

    def part(name, ch, prog, pitches, vel):
        ev = [(0, "meta", 0x03, name.encode()), (0, "ch", 0xC0 | ch, bytes([prog]))]
        for i in range(n_q):
            for p in pitches[i % len(pitches)]:
                ev.append((i * q, "ch", 0x90 | ch, bytes([p, vel])))
                ev.append((i * q + q - 10, "ch", 0x90 | ch, bytes([p, 0])))  # note-off as velocity 0
            if name == "PIANO" and i % 4 == 0:
                ev.append((i * q, "ch", 0xB0 | ch, bytes([64, 127])))
                ev.append((i * q + 4 * q - 20, "ch", 0xB0 | ch, bytes([64, 0])))
        ev.sort(key=event_order)
        ev.append((max(n_q * q, ev[-1][0]), "meta", 0x2F, b""))
        return ev

    return Midi(1, div, [tempo, part("MELODY", 0, 0, [[96], [98], [100]], 110),
                         part("BRIDGE", 1, 0, [[72], [74], [76], [77]], 80),
                         part("PIANO", 2, 0, [[36, 48, 55, 64], [43, 50, 59, 62]], 70)])


def synthetic_groove(seconds=30.0):
    ev = [(0, "meta", 0x03, b"Midi Drums"), (0, "meta", 0x51, (500000).to_bytes(3, "big"))]
    eighth = 240
    for i in range(int(seconds / 0.25)):
        t = i * eighth
        keys = [22 if i % 2 else 42] + ([36] if i % 4 == 0 else []) + ([38] if i % 4 == 2 else [])
        for p in keys:
            ev.append((t, "ch", 0x99, bytes([p, 90 + (i % 3) * 10])))
            ev.append((t + 60, "ch", 0x89, bytes([p, 64])))
    ev.sort(key=event_order)
    return Midi(0, 480, [ev])


def self_test():
    failures = []

    def check(cond, what):
        print("  %s %s" % ("ok  " if cond else "FAIL", what))
        if not cond:
            failures.append(what)

    print("%s --self-test" % PROG)
    # 1. writer -> reader round trip, running status, sysex, unknown chunks
    m = synthetic_pop909(8.0)
    m.tracks[1].insert(2, (0, "sysex", 0xF0, bytes([0x7E, 0x7F, 0x09, 0x01, 0xF7])))
    m.tracks[2][1:1] = [(0, "ch", 0xE1, bytes([0, 64])), (0, "ch", 0xD1, bytes([40])),
                        (0, "ch", 0xA1, bytes([72, 30])), (0, "meta", 0x01, b"text")]
    data = write_midi(m)
    back = read_midi(data, keep_sysex=True)
    check(back.fmt == m.fmt and back.division == m.division and back.tracks == m.tracks,
          "round trip: written file reads back to the same events (sysex kept)")
    no_sx = read_midi(data)
    check(no_sx.tracks[1] == [e for e in m.tracks[1] if e[1] != "sysex"] and no_sx.tracks[2:] == m.tracks[2:],
          "sysex skipped by default, the other events and their ticks unchanged")
    plain = write_midi(m, running_status=False)
    check(len(data) < len(plain) and read_midi(plain, keep_sysex=True).tracks == m.tracks,
          "writer uses running status (%d bytes, %d with a status byte per event; both read back)"
          % (len(data), len(plain)))
    raw = (b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"XFIH" + struct.pack(">I", 3) + b"abc" +
           b"MTrk" + struct.pack(">I", 28) +
           bytes([0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,    # tempo 500000
                  0x00, 0x90, 0x3C, 0x64,                      # note on
                  0x60, 0x3C, 0x00,                            # running status: note off (vel 0)
                  0x81, 0x00, 0xF0, 0x02, 0x01, 0xF7,          # delta 128, sysex (skipped)
                  0x10, 0xF7, 0x01, 0x02,                      # delta 16, escape sysex (skipped)
                  0x00, 0xFF, 0x2F, 0x00]))
    t = read_midi(raw).tracks
    check(t == [[(0, "meta", 0x51, bytes([0x07, 0xA1, 0x20])), (0, "ch", 0x90, bytes([60, 100])),
                 (96, "ch", 0x90, bytes([60, 0])), (240, "meta", 0x2F, b"")]],
          "hand-made file: running status, 2-byte delta, both sysex forms skipped, unknown chunk skipped")
    tm = TempoMap(m)
    check(abs(tm.sec(480) - 0.6) < 1e-9, "tempo map: 100 bpm quarter = 0.6 s")
    try:
        read_midi(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", 3) + b"\x00\x3c\x40")
        check(False, "data byte without running status is an error")
    except MidiError:
        check(True, "data byte without running status is an error")

    # 2. MELODY removal and program reassignment on a synthetic POP909 file
    src = synthetic_pop909(30.0)
    ok_plan = True
    seen_progs = set()
    for trial in range(40):
        rng = random.Random(trial)
        plan = plan_harm(rng, "synthetic.mid", read_midi(write_midi(src)))
        if plan is None:
            ok_plan = False
            break
        out = read_midi(write_midi(plan.midi))
        names = [track_name(tr) for tr in out.tracks]
        pitches = {e[3][0] for tr in out.tracks for e in tr if e[1] == "ch" and e[2] & 0xF0 == 0x90}
        progs = {track_name(tr): e[3][0] for tr in out.tracks for e in tr if e[1] == "ch" and e[2] & 0xF0 == 0xC0}
        want = dict(x.split(":") for x in plan.programs.split())
        chans = [e[2] & 15 for tr in out.tracks for e in tr if e[1] == "ch"]
        if ("MELODY" in names or pitches & {96, 98, 100} or not {"BRIDGE", "PIANO"} <= set(names)
                or {k: str(v) for k, v in progs.items()} != want or 9 in chans
                or VOICE_PROGRAMS & set(progs.values()) or abs(plan.out_len - 20.0) > 1e-6):
            ok_plan = False
            print("    trial %d: tracks %s programs %s want %s" % (trial, names, progs, want))
            break
        seen_progs |= set(progs.values())
    check(ok_plan, "synthetic POP909: MELODY (track and its pitches) gone, BRIDGE/PIANO on the chosen "
                   "programs, 20 s window")
    check(len(seen_progs) > 10, "program reassignment varies (%d programs over 40 plans)" % len(seen_progs))
    rng = random.Random(5)
    w, _ = window_notes([(1.0, 3.0, 60, 100), (4.0, 9.0, 62, 100)], [], 2.0, 4.0, 2.0, 1.0, rng, 0.0)
    check(w == [(0.0, 0.5, 60, 100), (1.0, 2.0, 62, 100)], "window: cut at both ends, time scaled by the tempo")

    # 3. never a voice program
    rng = random.Random(12345)
    drawn = set()
    for _ in range(50000):
        drawn |= set(choose_programs(rng).values())
    check(not drawn & VOICE_PROGRAMS and not drawn & {91, 94} and all(0 <= p < 128 for p in drawn),
          "50000 program draws: no voice program (52, 53, 54, 85) nor choir/halo pad; %d distinct" % len(drawn))

    # 4. a 3-second render of each kind
    try:
        check_tools()
        fonts = find_soundfonts()
    except Fatal as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="render_backing_test_") as d:
        for kind, midi in (("harm", synthetic_pop909(30.0)), ("drums", synthetic_groove(30.0))):
            path = os.path.join(d, "%s_src.mid" % kind)
            with open(path, "wb") as f:
                f.write(write_midi(midi))
            try:
                row = render_clip(kind, 0, 7, [path], d, fonts, d, clip_sec=3.0)
            except Fatal as e:
                check(False, "%s 3-s render: %s" % (kind, e))
                continue
            out = os.path.join(d, row["file"])
            info = (soxi(out, "-t"), soxi(out, "-r"), soxi(out, "-c"), soxi(out, "-b"), float(soxi(out, "-D")))
            _, rms, _ = sox_stats(out)
            check(info[:4] == ("flac", "44100", "2", "16") and abs(info[4] - 3.0) < 0.01 and rms > RMS_FLOOR_DB,
                  "%s 3-s render (%s, %s): %s %s Hz %s ch %s bit %.3f s, RMS %.1f dBFS"
                  % (kind, row["soundfont"], row["programs"], info[0], info[1], info[2], info[3], info[4], rms))
    if failures:
        print("%s --self-test: %d FAILED" % (PROG, len(failures)))
        return 1
    print("%s --self-test: all passed" % PROG)
    return 0


def main():
    ap = argparse.ArgumentParser(prog="render_backing.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="~/.cache/duet/backing", help="output folder (harm/ and drums/ in it)")
    ap.add_argument("--harm", type=int, default=300, help="harmonic clips (default 300)")
    ap.add_argument("--drums", type=int, default=300, help="drum clips (default 300)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("-j", dest="jobs", type=int, default=1, help="parallel renders (default 1)")
    ap.add_argument("--midi", default="/work/shared/data/midi", help="folder with pop909/ and groove/")
    ap.add_argument("--self-test", action="store_true", help="test the MIDI code, the plans and one render")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up temporary files
    try:
        return self_test() if args.self_test else main_render(args)
    except Fatal as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted; run again to resume" % PROG, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
