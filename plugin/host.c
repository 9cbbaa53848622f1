/* host.c - the plug-in's core above NsHostOps: the layer stack, the
 * photo and the paintings, their checks and regions, the run and its
 * result, the same in GIMP 2.10 and 3.0. */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "host.h"

NsHostChoice
ns_host_choice_new (void)
{
  NsHostChoice c = { ns_restyle_defaults (), -1, { -1, -1, -1 }, { -1, -1, -1 } };

  return c;
}

static NsItemInfo
item_of (const NsHostOps *ops,
         gint             id)
{
  NsItemInfo info = { NS_ITEM_NONE, -1, -1, 0, 0, 0, 0, FALSE, FALSE, FALSE, -1 };

  if (id != -1)
    ops->item (id, &info);
  return info;
}

/* ---- the layer stack ---- */

static void
add_layers (const NsHostOps *ops,
            gint             image,
            NsLayerList     *list,
            NsLayer         *parent)
{
  gint  n, i;
  gint *ids = ops->children (image, parent ? parent->id : -1, &n);

  for (i = 0; i < n; i++)
    {
      NsItemInfo info = item_of (ops, ids[i]);
      NsLayer    l    = { 0, };

      l.id       = ids[i];
      l.name     = ops->name (ids[i]);
      l.width    = info.width;
      l.height   = info.height;
      l.x        = info.x;
      l.y        = info.y;
      l.visible  = info.visible;
      l.group    = info.group;
      l.result   = info.result;
      l.has_mask = ! l.group && info.mask != -1;
      ns_layer_place (&l, parent, i);
      ns_layer_list_add (list, &l);
      if (l.group && l.depth + 1 < NS_LAYER_MAX_DEPTH)
        add_layers (ops, image, list, &l);
      g_free (l.name);
    }
  g_free (ids);
}

void
ns_host_list_layers (const NsHostOps *ops,
                     gint             image,
                     NsLayerList     *list)
{
  NsImageInfo info = { 0, };
  gint        n, i;
  gint       *channels = ops->channels (image, &n);

  ops->image (image, &info);
  memset (list, 0, sizeof *list);
  add_layers (ops, image, list, NULL);
  for (i = 0; i < n; i++)
    {
      gchar *name = ops->name (channels[i]);

      ns_layer_list_add_channel (list, channels[i], name);
      g_free (name);
    }
  g_free (channels);
  list->image_name = info.file;
  list->width      = info.width;
  list->height     = info.height;
}

gint
ns_host_photo_of (const NsHostOps *ops,
                  gint             drawable)
{
  NsItemInfo info = item_of (ops, drawable);

  if (info.kind == NS_ITEM_MASK)
    return info.owner;
  return info.kind == NS_ITEM_LAYER ? drawable : -1;
}

/* The last run's second and third paintings and channels, where they are
 * not of this image: none. */
static void
forget_foreign (const NsLayerList *layers,
                NsHostChoice      *c)
{
  gint k, i, found;

  for (k = 1; k < NS_MAX_PAINTINGS; k++)
    if (! ns_layer_list_find (layers, c->styles[k]))
      c->styles[k] = -1;
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      for (i = 0, found = 0; i < layers->n_channels; i++)
        found |= layers->channel_ids[i] == c->channels[k];
      if (! found)
        c->channels[k] = -1;
    }
}

gboolean
ns_host_guess (const NsHostOps *ops,
               gint             image,
               const gint      *selected,
               gint             n_selected,
               NsHostChoice    *c,
               NsLayerList     *layers)
{
  ns_host_list_layers (ops, image, layers);
  ns_layers_guess (layers, selected, n_selected, c->content, c->styles[0], &c->content, &c->styles[0]);
  forget_foreign (layers, c);
  if (c->styles[0] != -1)
    return TRUE;
  g_message (_("Neural Style restyles a photo after a painting, and needs both as layers of "
               "one image. Add the painting with File > Open as Layers..., then choose "
               "Filters > Artistic > Neural Style... again."));
  return FALSE;
}

/* ---- checks ---- */

/* What ns_restyle_check_layers needs of painting k; im is the image's. */
static void
painting_facts (const NsHostOps    *ops,
                gint                image,
                const NsImageInfo  *im,
                const NsHostChoice *c,
                gint                k,
                NsPaintingFacts    *f)
{
  NsItemInfo s  = item_of (ops, c->styles[k]);
  NsItemInfo ch = item_of (ops, c->channels[k]);

  f->is_layer   = s.kind == NS_ITEM_LAYER;
  f->in_image   = f->is_layer && s.image == image;
  f->is_content = c->styles[k] == c->content;
  f->empty      = f->is_layer && (s.width < 1 || s.height < 1);
  f->region     = c->params.region[k];
  switch (f->region)
    {
    case NS_REGION_CHOICE_SELECTION:
      f->region_usable = ! im->selection_empty;
      break;
    case NS_REGION_CHOICE_LAYER_MASK:
      f->region_usable = f->is_layer && s.mask != -1;
      break;
    case NS_REGION_CHOICE_CHANNEL:
      f->region_usable = ch.kind == NS_ITEM_CHANNEL && ch.image == image;
      break;
    default:
      f->region_usable = TRUE;
    }
}

static gboolean
check_layers (const NsHostOps    *ops,
              gint                image,
              const NsHostChoice *c,
              GError            **error)
{
  NsLayerFacts f       = { 0, };
  NsItemInfo   content = item_of (ops, c->content);
  NsItemInfo   style   = item_of (ops, c->styles[0]);
  NsImageInfo  im      = { 0, };
  gint         k;

  ops->image (image, &im);
  g_free (im.file);
  f.content_is_layer = content.kind == NS_ITEM_LAYER && content.image == image;
  f.indexed          = im.indexed;
  f.style_is_layer   = style.kind == NS_ITEM_LAYER;
  f.style_in_image   = f.style_is_layer && style.image == image;
  f.same_layer       = c->styles[0] == c->content;
  if (f.content_is_layer)
    {
      f.content_width  = content.width;
      f.content_height = content.height;
    }
  if (f.style_is_layer)
    {
      f.style_width  = style.width;
      f.style_height = style.height;
      painting_facts (ops, image, &im, c, 0, &f.first);
    }
  f.n_more = c->params.paintings - 1;
  for (k = 1; k < c->params.paintings; k++)
    painting_facts (ops, image, &im, c, k, &f.more[k - 1]);
  return ns_restyle_check_layers (&f, error);
}

/* ---- the run ---- */

/* The buffers of a run. */
typedef struct
{
  GeglRectangle  area;      /* the part restyled, layer coordinates */
  gint           offset_x;  /* the photo's offsets in the image */
  gint           offset_y;
  GeglBuffer    *content;
  NsPainting     paintings[NS_MAX_PAINTINGS];
  GeglBuffer    *mask;      /* the selection where it limits the run, or NULL */
  GeglBuffer    *result;
} Run;

static void
run_clear (Run *r)
{
  gint k;

  g_clear_object (&r->content);
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      g_clear_object (&r->paintings[k].buffer);
      g_clear_object (&r->paintings[k].region);
    }
  g_clear_object (&r->mask);
  g_clear_object (&r->result);
}

/* Painting k's region: its drawable and where the photo's origin falls in
 * it. */
static void
region_of (const NsHostOps    *ops,
           const NsImageInfo  *im,
           const NsHostChoice *c,
           gint                k,
           Run                *r)
{
  NsPainting *p  = &r->paintings[k];
  NsItemInfo  s  = item_of (ops, c->styles[k]);
  gint        d  = -1;
  gint        dx = 0, dy = 0;

  switch (c->params.region[k])
    {
    case NS_REGION_CHOICE_SELECTION:
      d = im->selection;
      break;
    case NS_REGION_CHOICE_LAYER_MASK:
      d  = s.mask;
      dx = s.x, dy = s.y;
      break;
    case NS_REGION_CHOICE_CHANNEL:
      d = c->channels[k];
      break;
    default:
      return;
    }
  p->region   = ops->buffer (d);
  p->region_x = r->offset_x - dx;
  p->region_y = r->offset_y - dy;
}

static gboolean
progress_update (gdouble      fraction,
                 const gchar *text,
                 gpointer     data)
{
  gimp_progress_set_text (text);
  gimp_progress_update (fraction);
  return TRUE;  /* GIMP cancels a plug-in's run by ending its process */
}

/* The buffers of c's run; FALSE when the selection misses the photo. */
static gboolean
read_run (const NsHostOps    *ops,
          gint                image,
          const NsHostChoice *c,
          Run                *r)
{
  NsItemInfo  content = item_of (ops, c->content);
  NsImageInfo im      = { 0, };
  gboolean    by_sel  = ns_restyle_selection_is_region (&c->params);
  gint        k;

  /* the selection as a painting's region: the whole layer is restyled */
  if (by_sel)
    r->area = (GeglRectangle) { 0, 0, content.width, content.height };
  else if (! ops->mask_intersect (c->content, &r->area))
    return FALSE;
  ops->image (image, &im);
  g_free (im.file);
  r->offset_x = content.x;
  r->offset_y = content.y;
  r->content  = ops->buffer (c->content);
  for (k = 0; k < c->params.paintings; k++)
    {
      r->paintings[k].buffer = ops->buffer (c->styles[k]);
      region_of (ops, &im, c, k, r);
    }
  if (! by_sel && ! im.selection_empty)
    r->mask = ops->buffer (im.selection);
  return TRUE;
}

/* Copies a layer's mask onto another layer. */
static void
copy_mask (const NsHostOps *ops,
           gint             from,
           gint             layer)
{
  gint        copy = ops->add_mask (layer);
  GeglBuffer *src  = ops->buffer (from);
  GeglBuffer *dst  = ops->buffer (copy);

  gegl_buffer_copy (src, NULL, GEGL_ABYSS_NONE, dst, NULL);
  g_object_unref (src);
  g_object_unref (dst);
  ops->update (copy);
}

/* The result's layer called name, in view, in one undo step: above the
 * photo (and the earlier results over it), with a copy of the photo's mask
 * and the mark, and the n paintings in hide hidden where they would hide
 * it. */
static gint
add_result (const NsHostOps *ops,
            gint             image,
            gint             content,
            const gchar     *name,
            const gint      *hide,
            gint             n,
            GeglBuffer      *pixels)
{
  NsItemInfo  photo  = item_of (ops, content);
  NsLayerList layers;
  GeglBuffer *buf;
  gint        anchor, layer, k;

  ns_host_list_layers (ops, image, &layers);
  anchor = ns_layers_result_anchor (&layers, content);
  ops->undo_group (image, TRUE);
  layer = ops->new_layer (image, content, anchor, name);
  buf   = ops->buffer (layer);
  gegl_buffer_copy (pixels, NULL, GEGL_ABYSS_NONE, buf, NULL);
  g_object_unref (buf);
  ops->update (layer);
  if (photo.mask != -1)
    copy_mask (ops, photo.mask, layer);
  for (k = 0; k < n; k++)
    if (hide[k] != -1 && ns_layers_style_hides (&layers, anchor, hide[k]))
      ops->set_visible (hide[k], FALSE);
  ops->select_layer (image, layer);
  ops->undo_group (image, FALSE);

  ns_layer_list_clear (&layers);
  return layer;
}

gint
ns_host_run (const NsHostOps     *ops,
             gint                 image,
             const NsHostChoice  *c,
             struct ns_context  **ctx,
             GError             **error)
{
  Run  r     = { .result = NULL };
  gint layer = -1;

  if (! ns_restyle_check_params (&c->params, error) || ! check_layers (ops, image, c, error) ||
      ! (*ctx || (*ctx = ns_restyle_open (c->params.device, error))))
    return -1;
  if (! read_run (ops, image, c, &r))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("The selection does not touch the photo's layer."));
      return -1;
    }
  gimp_progress_init (_("Neural Style"));
  r.result = ns_restyle (*ctx, r.content, &r.area, r.mask, r.offset_x, r.offset_y, r.paintings,
                         &c->params, progress_update, NULL, error);
  gimp_progress_end ();
  if (r.result)
    {
      gchar *style = ops->name (c->styles[0]);
      gchar *name  = ns_restyle_layer_name (style);

      layer = add_result (ops, image, c->content, name, c->styles, c->params.paintings, r.result);
      g_free (name);
      g_free (style);
    }
  run_clear (&r);
  return layer;
}

/* ---- Neural Style (Fast) ---- */

/* The photo can be restyled: a layer of this image, not indexed. */
static gboolean
check_photo (const NsHostOps *ops,
             gint             image,
             gint             content,
             GError         **error)
{
  NsItemInfo   photo = item_of (ops, content);
  NsImageInfo  im    = { 0, };
  const gchar *msg   = NULL;

  ops->image (image, &im);
  g_free (im.file);
  if (photo.kind != NS_ITEM_LAYER || photo.image != image)
    msg = _("Neural Style restyles a layer: select the photo's layer (not a channel "
            "or a mask) and try again.");
  else if (im.indexed)
    msg = _("Neural Style works on RGB and grayscale images; convert this indexed "
            "image with Image > Mode > RGB first.");
  if (msg)
    g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID, msg);
  return msg == NULL;
}

gint
ns_host_run_fast (const NsHostOps     *ops,
                  gint                 image,
                  gint                 content,
                  const NsFastParams  *p,
                  struct ns_context  **ctx,
                  GError             **error)
{
  struct ns_style_model *model = NULL;
  NsImageInfo            im    = { 0, };
  GeglRectangle          area;
  GeglBuffer            *pixels, *mask = NULL, *result = NULL;
  NsItemInfo             photo = item_of (ops, content);
  gint                   layer = -1;

  if (! ns_fast_check (p, error) || ! check_photo (ops, image, content, error) ||
      ! (model = ns_fast_load (p->style, error)) ||
      ! (*ctx || (*ctx = ns_fast_open (p->device, error))))
    goto out;
  if (! ops->mask_intersect (content, &area))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("The selection does not touch the photo's layer."));
      goto out;
    }
  ops->image (image, &im);
  g_free (im.file);
  pixels = ops->buffer (content);
  if (! im.selection_empty)
    mask = ops->buffer (im.selection);
  gimp_progress_init (_("Neural Style (Fast)"));
  result = ns_fast_restyle (*ctx, model, pixels, &area, mask, photo.x, photo.y, p, progress_update, NULL, error);
  gimp_progress_end ();
  if (result)
    {
      const gchar *title = ns_style_model_info (model, "name");
      gchar       *name  = ns_fast_layer_name (title && *title ? title : p->style);

      layer = add_result (ops, image, content, name, NULL, 0, result);
      g_free (name);
      g_object_unref (result);
    }
  g_object_unref (pixels);
  g_clear_object (&mask);
out:
  ns_style_model_free (model);
  return layer;
}

GimpPDBStatusType
ns_host_status_of (const GError *error)
{
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_CANCELLED)
    return GIMP_PDB_CANCEL;
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_INVALID)
    return GIMP_PDB_CALLING_ERROR;
  return GIMP_PDB_EXECUTION_ERROR;
}
