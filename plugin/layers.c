/* layers.c - which layer is the photo, which the painting, and whether the
 * painting hides the result: decisions on the layer stack.
 */
#include <string.h>

#include "layers.h"

void
ns_layer_place (NsLayer       *l,
                const NsLayer *parent,
                gint           index)
{
  if (parent)
    memcpy (l->path, parent->path, sizeof l->path);
  l->depth          = parent ? parent->depth + 1 : 0;
  l->path[l->depth] = index;
  l->visible        = l->visible && (! parent || parent->visible);
}

void
ns_layer_list_add (NsLayerList   *list,
                   const NsLayer *layer)
{
  list->layers = g_renew (NsLayer, list->layers, list->n + 1);
  list->layers[list->n] = *layer;
  list->layers[list->n].name = g_strdup (layer->name ? layer->name : "");
  list->n++;
}

void
ns_layer_list_add_channel (NsLayerList *list,
                           gint         id,
                           const gchar *name)
{
  list->channel_ids   = g_renew (gint, list->channel_ids, list->n_channels + 1);
  list->channel_names = g_renew (gchar *, list->channel_names, list->n_channels + 1);
  list->channel_ids[list->n_channels]   = id;
  list->channel_names[list->n_channels] = g_strdup (name ? name : "");
  list->n_channels++;
}

void
ns_layer_list_clear (NsLayerList *list)
{
  gint i;

  for (i = 0; i < list->n; i++)
    g_free (list->layers[i].name);
  for (i = 0; i < list->n_channels; i++)
    g_free (list->channel_names[i]);
  g_free (list->channel_ids);
  g_free (list->channel_names);
  g_free (list->layers);
  g_free (list->image_name);
  memset (list, 0, sizeof *list);
}

const NsLayer *
ns_layer_list_find (const NsLayerList *list,
                    gint               id)
{
  gint i;

  for (i = 0; i < list->n; i++)
    if (list->layers[i].id == id)
      return &list->layers[i];
  return NULL;
}

gboolean
ns_layer_holds (const NsLayer *group,
                const NsLayer *item)
{
  gint i;

  if (! group->group || item->depth <= group->depth)
    return FALSE;
  for (i = 0; i <= group->depth; i++)
    if (group->path[i] != item->path[i])
      return FALSE;
  return TRUE;
}

gboolean
ns_layer_is_above (const NsLayer *a,
                   const NsLayer *b)
{
  gint depth = MIN (a->depth, b->depth);
  gint i;

  for (i = 0; i <= depth; i++)
    if (a->path[i] != b->path[i])
      return a->path[i] < b->path[i];
  return FALSE;  /* one holds the other */
}

/* A layer that may be a photo or a painting: not one of our results. */
static const NsLayer *
candidate (const NsLayerList *list,
           gint               id)
{
  const NsLayer *l = ns_layer_list_find (list, id);

  return l && ! l->result ? l : NULL;
}

gboolean
ns_layers_usable_pair (const NsLayerList *list,
                       gint               content,
                       gint               style)
{
  const NsLayer *c = ns_layer_list_find (list, content);
  const NsLayer *s = ns_layer_list_find (list, style);

  return c && s && c != s && ! ns_layer_holds (c, s) && ! ns_layer_holds (s, c);
}

/* TRUE when name begins with prefix: "photo.jpg copy" is a copy of
 * "photo.jpg". */
static gboolean
named_after (const gchar *name,
             const gchar *prefix)
{
  return prefix && *prefix && g_str_has_prefix (name, prefix);
}

/* How much l looks like the photo: named after the image's file (the photo
 * as opened), filling the canvas (a painting added with Open as Layers keeps
 * its own size). */
static gint
photo_score (const NsLayerList *list,
             const NsLayer     *l)
{
  gint score = 0;

  if (list->image_name && strcmp (l->name, list->image_name) == 0)
    score += 4;
  if (l->x == 0 && l->y == 0 && l->width == list->width && l->height == list->height)
    score += 2;
  return score;
}

/* The candidate other than a that best fits as the photo (photo TRUE) or
 * the painting, with a point for lying where that one usually is: the photo
 * below a, the painting above it.  Plain layers before groups; among equals
 * the nearest in the stack. */
static const NsLayer *
best_other (const NsLayerList *list,
            const NsLayer     *a,
            gboolean           photo,
            gint              *score_out)
{
  const NsLayer *best       = NULL;
  gint           best_score = 0;
  gint           best_dist  = 0;
  gint           i, pos_a = 0;

  for (i = 0; i < list->n; i++)
    if (&list->layers[i] == a)
      pos_a = i;
  for (i = 0; i < list->n; i++)
    {
      const NsLayer *l = &list->layers[i];
      gint           score, dist;

      if (l->result || ! ns_layers_usable_pair (list, a->id, l->id))
        continue;
      score = photo ? photo_score (list, l) : -photo_score (list, l);
      if (photo ? ns_layer_is_above (a, l) : ns_layer_is_above (l, a))
        score++;
      score = 2 * score - l->group;
      dist  = ABS (i - pos_a);
      if (! best || score > best_score || (score == best_score && dist < best_dist))
        {
          best       = l;
          best_score = score;
          best_dist  = dist;
        }
    }
  if (score_out)
    *score_out = best_score;
  return best;
}

/* Is a, the active layer, the painting?  When another layer looks more like
 * the photo than a does, and a is not a copy of it ("Background copy"). */
static gboolean
looks_like_painting (const NsLayerList  *list,
                     const NsLayer      *a,
                     const NsLayer     **photo)
{
  gint score;

  *photo = best_other (list, a, TRUE, &score);
  return *photo && score > 2 * photo_score (list, a) - a->group &&
         ! named_after (a->name, (*photo)->name) && ! named_after (a->name, list->image_name);
}

void
ns_layers_guess (const NsLayerList *list,
                 const gint        *selected,
                 gint               n_selected,
                 gint               last_content,
                 gint               last_style,
                 gint              *content,
                 gint              *style)
{
  const NsLayer *a = NULL;
  const NsLayer *b = NULL;
  const NsLayer *other;
  gboolean       keep_last;
  gint           i;

  *content = *style = -1;

  /* the last pair, unless another layer of the image was chosen since */
  keep_last = candidate (list, last_content) && candidate (list, last_style) &&
              ns_layers_usable_pair (list, last_content, last_style);
  for (i = 0; keep_last && i < n_selected; i++)
    if (candidate (list, selected[i]) &&
        selected[i] != last_content && selected[i] != last_style)
      keep_last = FALSE;
  if (keep_last)
    {
      *content = last_content;
      *style   = last_style;
      return;
    }

  for (i = 0; i < n_selected; i++)
    {
      const NsLayer *l = candidate (list, selected[i]);

      if (l && ! a)
        a = l;
      else if (l && ! b && ns_layers_usable_pair (list, a->id, l->id))
        b = l;
    }
  if (! a)  /* nothing usable selected: start from the topmost layer */
    for (i = 0; i < list->n && ! a; i++)
      if (! list->layers[i].result && ! list->layers[i].group)
        a = &list->layers[i];
  if (! a)
    return;

  if (b)  /* two layers selected: the more photo-like, else the lower one */
    {
      const NsLayer *upper = ns_layer_is_above (b, a) ? b : a;
      const NsLayer *lower = upper == a ? b : a;
      gboolean       swap  = photo_score (list, upper) > photo_score (list, lower);

      *content = swap ? upper->id : lower->id;
      *style   = swap ? lower->id : upper->id;
      return;
    }

  if (looks_like_painting (list, a, &other))
    {
      *content = other->id;
      *style   = a->id;
      return;
    }

  other = best_other (list, a, FALSE, NULL);
  if (other)
    {
      *content = a->id;
      *style   = other->id;
    }
}

/* TRUE when a and b are in the same stack (the same group or the image). */
static gboolean
siblings (const NsLayer *a,
          const NsLayer *b)
{
  return a->depth == b->depth && memcmp (a->path, b->path, sizeof a->path[0] * a->depth) == 0;
}

gint
ns_layers_result_anchor (const NsLayerList *list,
                         gint               content)
{
  const NsLayer *c      = ns_layer_list_find (list, content);
  const NsLayer *anchor = c;
  gint           i;

  for (i = 0; c && i < list->n; i++)
    {
      const NsLayer *l = &list->layers[i];

      if (l->result && siblings (l, c) && ns_layer_is_above (l, anchor))
        anchor = l;
    }
  return anchor ? anchor->id : content;
}

gboolean
ns_layers_style_hides (const NsLayerList *list,
                       gint               content,
                       gint               style)
{
  const NsLayer *c = ns_layer_list_find (list, content);
  const NsLayer *s = ns_layer_list_find (list, style);

  return c && s && s->visible && ns_layer_is_above (s, c);
}
