/* recommender/dataset_open.c: duet_rec_dataset_open, a data set from its
 * sources (the interactions and the side files, see data.h), the one way
 * train-rec, eval-rec and the library's users load one. */
#include "data.h"
#include "../common/pathfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir/rel when it names an existing file (want_dir 0) or folder (1), as a
 * new string; NULL when absent, too long or out of memory. */
static char *sibling(const char *dir, const char *rel, int want_dir)
{
    char *p = duet_path_join(dir, rel);
    if (!p) return NULL;
    if (want_dir ? is_dir(p) : is_file(p)) return p;
    free(p);
    return NULL;
}

duet_status duet_rec_dataset_open(const duet_rec_sources *src, duet_rec_dataset **out, duet_err *err)
{
    if (!out) return duet_err_set(err, DUET_ERR_ARG, "rec: dataset_open: out is NULL");
    *out = NULL;
    if (!src) return duet_err_set(err, DUET_ERR_ARG, "rec: dataset_open: sources are NULL");
    if (!src->interactions == !src->hetrec)
        return duet_err_set(err, DUET_ERR_ARG, "rec: give exactly one of an interactions file and a HetRec folder");
    duet_rec_dataset *ds = NULL;
    duet_status st = src->hetrec ? duet_rec_load_hetrec(src->hetrec, &ds, err)
                                 : duet_rec_load_interactions_tsv(src->interactions, &ds, err);
    if (st) return st;
    char *spotify = NULL, *kg = NULL;
    int nomem = 0;
    if (src->spotify) nomem |= !(spotify = strdup(src->spotify));
    else if (src->hetrec && !src->no_side)
        spotify = sibling(src->hetrec, "../spotify-artist-features/hetrec_artist_spotify_features.tsv", 0);
    if (src->kg) nomem |= !(kg = strdup(src->kg));
    else if (src->hetrec && !src->no_side) kg = sibling(src->hetrec, "../kgcn-music", 1);
    ds->spotify_file = spotify;
    ds->kg_dir = kg;
    if (nomem) st = duet_err_set(err, DUET_ERR_NOMEM, "rec: out of memory");
    if (!st && src->item_attrs) st = duet_rec_load_item_attrs_tsv(ds, src->item_attrs, err);
    if (!st && kg) st = duet_rec_load_kgcn(ds, kg, err);
    if (!st && src->item_features) st = duet_rec_load_item_features_tsv(ds, src->item_features, 0, 1, err);
    if (!st && spotify) st = duet_rec_load_spotify_tsv(ds, spotify, err);
    if (st) {
        duet_rec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return DUET_OK;
}
