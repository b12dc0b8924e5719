#!/usr/bin/python3
"""scripts/sep_split_val.py JSON [VAL_CLIPS]: from a `duet eval-sep --json` file on the
held-out MIR-1K singers (bobon_*, fdps_*), the vocal and accompaniment GNSDR and median
SDR on the clips `duet train-sep` validates on and on the others. train-sep picks
clips[q * n / VAL_CLIPS], q = 0 .. VAL_CLIPS - 1, of the held-out clips in name order
(separation/sepnet_train.c, sepnet_validate); VAL_CLIPS is its --val-clips (default 24)."""
import json
import statistics
import sys

doc = json.load(open(sys.argv[1]))
n_val = int(sys.argv[2]) if len(sys.argv) > 2 else 24
for method in doc["methods"]:
    tracks = sorted(method["tracks"], key=lambda t: t["name"])
    n = len(tracks)
    val = {tracks[q * n // n_val]["name"] for q in range(min(n_val, n))}
    groups = (("validation", lambda t: t["name"] in val), ("other", lambda t: t["name"] not in val),
              ("all", lambda t: True))
    for stem in ("vocals", "accompaniment"):
        for label, keep in groups:
            nsdr_len = length = 0
            sdrs = []
            for t in filter(keep, tracks):
                g = next(x for x in t["targets"] if x["name"] == stem)
                if g["NSDR"] is None:  # silent reference or estimate: undefined, left out
                    continue
                nsdr_len += g["NSDR"] * t["samples"]
                length += t["samples"]
                sdrs.append(g["SDR"])
            if not sdrs:
                print(method["name"], stem, label, 0, "no defined values")
                continue
            print(method["name"], stem, label, len(sdrs), "GNSDR %.2f" % (nsdr_len / length),
                  "median SDR %.2f" % statistics.median(sdrs))
