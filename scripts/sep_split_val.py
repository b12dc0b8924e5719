#!/usr/bin/python3
"""scripts/sep_split_val.py JSON: from a `duet eval-sep --json` file on the 98 held-out
MIR-1K clips (bobon_*, fdps_*), the vocal/accompaniment GNSDR and median SDR on the 24
clips train-sep validates on (clips[q * n / 24], q = 0..23, in name order, as
separation/sepnet_train.c picks them) and on the other clips."""
import json,sys
d=json.load(open(sys.argv[1]))
for meth in d['methods']:
    tr=sorted(meth['tracks'],key=lambda t:t['name'])
    n=len(tr); val={tr[q*n//24]['name'] for q in range(24)}
    for stem in ('vocals','accompaniment'):
        for label,sel in (('val24',lambda t:t['name'] in val),('other',lambda t:t['name'] not in val),('all',lambda t:True)):
            num=den=0; sdrs=[]
            for t in tr:
                if not sel(t): continue
                g=[x for x in t['targets'] if x['name']==stem][0]
                if g['NSDR'] is None: continue
                num+=g['NSDR']*t['samples']; den+=t['samples']; sdrs.append(g['SDR'])
            sdrs.sort(); m=len(sdrs); med=(sdrs[m//2] if m%2 else (sdrs[m//2-1]+sdrs[m//2])/2)
            print(meth['name'],stem,label,m,'GNSDR %.2f'%(num/den),'medianSDR %.2f'%med)
