/* gimp2.c - the GIMP 2.10 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawable, style-layer,
 * iterations, size, content-weight, style-weight, tv-weight, optimizer,
 * init, preserve-colors, style-scale, seed, device, precision) -> new-layer
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "dialog.h"
#include "host.h"

#define N_ARGS         16
#define RESPONSE_RESET 1

/* What gimp_set_data keeps between runs of a session. */
typedef struct
{
  NsRestyleParams params;
  gint32          content;
  gint32          style;
} LastValues;

static void query (void);
static void run   (const gchar      *name,
                   gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO =
{
  NULL,
  NULL,
  query,
  run
};

MAIN ()

static void
query (void)
{
  static const GimpParamDef args[] =
  {
    { GIMP_PDB_INT32,    "run-mode",        "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",           "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",        "The photo: the layer to restyle" },
    { GIMP_PDB_LAYER,    "style-layer",     "The painting (another layer of the same image)" },
    { GIMP_PDB_INT32,    "iterations",      "Optimization iterations (0-" G_STRINGIFY (NS_PARAM_ITERATIONS_MAX) ")" },
    { GIMP_PDB_INT32,    "size",            "Longest side to optimize at, in pixels (0 = the layer's own, "
                                            "or the largest that fits in memory)" },
    { GIMP_PDB_FLOAT,    "content-weight",  "Content loss weight (>= 0)" },
    { GIMP_PDB_FLOAT,    "style-weight",    "Style loss weight (>= 0)" },
    { GIMP_PDB_FLOAT,    "tv-weight",       "Total-variation (smoothness) weight (>= 0)" },
    { GIMP_PDB_INT32,    "optimizer",       "Optimizer { L-BFGS (0), Adam (1) }" },
    { GIMP_PDB_INT32,    "init",            "Start from { the photo (0), noise (1) }" },
    { GIMP_PDB_INT32,    "preserve-colors", "Keep the photo's colors { FALSE (0), TRUE (1) }" },
    { GIMP_PDB_FLOAT,    "style-scale",     "Brush size: the painting's size relative to the photo ("
                                            G_STRINGIFY (NS_PARAM_STYLE_SCALE_MIN) "-"
                                            G_STRINGIFY (NS_PARAM_STYLE_SCALE_MAX) ")" },
    { GIMP_PDB_INT32,    "seed",            "Random seed (for noise)" },
    { GIMP_PDB_INT32,    "device",          "Device { auto (0), CPU (1), GPU (2) }" },
    { GIMP_PDB_INT32,    "precision",       "GPU arithmetic { float32 (0), TF32 (1), bfloat16 (2) }" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER, "new-layer", "The restyled layer, above the photo" }
  };
  gchar *dir  = ns_host_plugin_dir ();
  gchar *loc  = g_build_filename (dir, "locale", NULL);
  gchar *help = g_build_filename (dir, "help", NULL);
  gchar *uri  = g_filename_to_uri (help, NULL, NULL);

  gimp_plugin_domain_register (GETTEXT_PACKAGE, loc);
  gimp_plugin_help_register (NS_HELP_DOMAIN, uri);

  gimp_install_procedure (PLUG_IN_PROC,
                          N_("Restyle a photo after a painting (neural style transfer)"),
                          "Optimizes a new layer so that its VGG-19 features match the "
                          "photo and its Gram matrices match the painting "
                          "(Gatys, Ecker & Bethge 2016). The result lands in a new layer "
                          "above the photo; with a selection only the selected part is "
                          "restyled. A visible painting above the photo is hidden so that "
                          "the result shows.",
                          "Neural Style for GIMP developers",
                          "Neural Style for GIMP developers",
                          "2026",
                          N_("_Neural Style..."),
                          "RGB*, GRAY*",
                          GIMP_PLUGIN,
                          G_N_ELEMENTS (args), G_N_ELEMENTS (return_vals),
                          args, return_vals);

  gimp_plugin_menu_register (PLUG_IN_PROC, "<Image>/Filters/Artistic");
  g_free (uri);
  g_free (help);
  g_free (loc);
  g_free (dir);
}

/* ---- the host: GIMP 2.10's layers by ID ---- */

static GeglBuffer *
layer_buffer (gint id)
{
  return gimp_drawable_get_buffer (id);
}

static GdkPixbuf *
layer_thumbnail (gint id,
                 gint size)
{
  return gimp_drawable_get_thumbnail (id, size, size, GIMP_PIXBUF_SMALL_CHECKS);
}

static void
add_layers (NsLayerList *list,
            const gint  *ids,
            gint         n,
            NsLayer     *parent)
{
  gint i;

  for (i = 0; i < n; i++)
    {
      NsLayer       l    = { 0, };
      GimpParasite *mark = gimp_item_get_parasite (ids[i], NS_RESULT_PARASITE);

      l.id      = ids[i];
      l.name    = gimp_item_get_name (ids[i]);
      l.width   = gimp_drawable_width (ids[i]);
      l.height  = gimp_drawable_height (ids[i]);
      gimp_drawable_offsets (ids[i], &l.x, &l.y);
      l.visible = gimp_item_get_visible (ids[i]);
      l.group   = gimp_item_is_group (ids[i]);
      l.result  = mark != NULL;
      ns_layer_place (&l, parent, i);
      ns_layer_list_add (list, &l);
      gimp_parasite_free (mark);

      if (l.group && l.depth + 1 < NS_LAYER_MAX_DEPTH)
        {
          gint  nc;
          gint *children = gimp_item_get_children (ids[i], &nc);

          add_layers (list, children, nc, &l);
          g_free (children);
        }
      g_free (l.name);
    }
}

static void
list_layers (gint32       image,
             NsLayerList *list)
{
  gint   n;
  gint  *ids  = gimp_image_get_layers (image, &n);
  gchar *uri  = gimp_image_get_imported_uri (image);
  gchar *file = uri ? g_filename_from_uri (uri, NULL, NULL) : gimp_image_get_filename (image);

  memset (list, 0, sizeof *list);
  add_layers (list, ids, n, NULL);
  list->image_name = file ? g_path_get_basename (file) : NULL;
  list->width      = gimp_image_width (image);
  list->height     = gimp_image_height (image);
  g_free (file);
  g_free (uri);
  g_free (ids);
}

/* ---- dialog ---- */

static gboolean
show_dialog (LastValues         *vals,
             const NsLayerList  *layers,
             struct ns_context **ctx)
{
  NsDialogHost host = { layer_buffer, layer_thumbnail, NULL, NULL };
  NsDialog    *d;
  GtkWidget   *dialog;
  gint         response;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = gimp_dialog_new (_("Neural Style"), PLUG_IN_ROLE, NULL, 0,
                            gimp_standard_help_func, PLUG_IN_PROC,
                            _("_Reset"),  RESPONSE_RESET,
                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"),     GTK_RESPONSE_OK,
                            NULL);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog), RESPONSE_RESET, GTK_RESPONSE_OK,
                                           GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  d = ns_dialog_new (dialog, &host, layers, &vals->params, &vals->content, &vals->style, ctx);
  gtk_widget_show (dialog);
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == RESPONSE_RESET)
    {
      NsRestyleParams defaults = ns_restyle_defaults ();

      ns_dialog_set_params (d, &defaults);
    }
  ns_dialog_free (d);
  gtk_widget_destroy (dialog);
  return response == GTK_RESPONSE_OK;
}

/* ---- run ---- */

static gboolean
check_layers (gint32   image,
              gint32   content,
              gint32   style,
              GError **error)
{
  NsLayerFacts f = { 0, };

  f.content_is_layer = gimp_item_is_valid (content) && gimp_item_is_layer (content) &&
                       gimp_item_get_image (content) == image;
  f.indexed          = gimp_image_base_type (image) == GIMP_INDEXED;
  f.style_is_layer   = gimp_item_is_valid (style) && gimp_item_is_layer (style);
  f.style_in_image   = f.style_is_layer && gimp_item_get_image (style) == image;
  f.same_layer       = style == content;
  if (f.content_is_layer)
    {
      f.content_width  = gimp_drawable_width (content);
      f.content_height = gimp_drawable_height (content);
    }
  if (f.style_is_layer)
    {
      f.style_width  = gimp_drawable_width (style);
      f.style_height = gimp_drawable_height (style);
    }
  return ns_restyle_check_layers (&f, error);
}

/* The result's layer, in view, in one undo step: above the photo (and the
 * earlier results over it), with a copy of the photo's mask and the mark,
 * and the painting hidden if it would hide it. */
static gint32
add_result (gint32              image,
            gint32              content,
            gint32              style,
            GeglBuffer         *pixels)
{
  gchar        *name   = ns_restyle_layer_name (gimp_item_get_name (style));
  gint32        mask   = gimp_layer_get_mask (content);
  GimpParasite *mark   = gimp_parasite_new (NS_RESULT_PARASITE, GIMP_PARASITE_PERSISTENT, 1, "1");
  NsLayerList   layers;
  gint32        anchor, layer;
  GeglBuffer   *buf;
  gint          ox, oy;

  list_layers (image, &layers);
  anchor = ns_layers_result_anchor (&layers, content);
  gimp_image_undo_group_start (image);
  gimp_drawable_offsets (content, &ox, &oy);
  layer = gimp_layer_new (image, name,
                          gimp_drawable_width (content), gimp_drawable_height (content),
                          gimp_drawable_type (content), 100.0,
                          GIMP_LAYER_MODE_NORMAL);
  gimp_image_insert_layer (image, layer, gimp_item_get_parent (content),
                           gimp_image_get_item_position (image, anchor));
  gimp_layer_set_offsets (layer, ox, oy);
  buf = gimp_drawable_get_buffer (layer);
  gegl_buffer_copy (pixels, NULL, GEGL_ABYSS_NONE, buf, NULL);
  g_object_unref (buf);
  gimp_drawable_update (layer, 0, 0, gimp_drawable_width (layer), gimp_drawable_height (layer));

  if (mask != -1)
    {
      gint32      copy = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);
      GeglBuffer *from = gimp_drawable_get_buffer (mask);
      GeglBuffer *to;

      gimp_layer_add_mask (layer, copy);
      to = gimp_drawable_get_buffer (copy);
      gegl_buffer_copy (from, NULL, GEGL_ABYSS_NONE, to, NULL);
      g_object_unref (from);
      g_object_unref (to);
      gimp_drawable_update (copy, 0, 0, gimp_drawable_width (copy), gimp_drawable_height (copy));
    }
  gimp_item_attach_parasite (layer, mark);
  if (ns_layers_style_hides (&layers, anchor, style))
    gimp_item_set_visible (style, FALSE);
  gimp_image_set_active_layer (image, layer);
  gimp_image_undo_group_end (image);

  ns_layer_list_clear (&layers);
  gimp_parasite_free (mark);
  g_free (name);
  return layer;
}

static gint32
restyle (gint32                 image,
         gint32                 content,
         gint32                 style,
         const NsRestyleParams *params,
         struct ns_context     *ctx,
         GError               **error)
{
  NsHostRun    r       = { 0, };
  gint32       layer   = -1;
  gboolean     touches = gimp_drawable_mask_intersect (content, &r.area.x, &r.area.y,
                                                       &r.area.width, &r.area.height);

  if (touches)
    {
      gimp_drawable_offsets (content, &r.offset_x, &r.offset_y);
      r.content = gimp_drawable_get_buffer (content);
      r.style   = gimp_drawable_get_buffer (style);
      if (! gimp_selection_is_empty (image))
        r.mask = gimp_drawable_get_buffer (gimp_image_get_selection (image));
    }
  if (ns_host_restyle (&r, touches, ctx, params, error))
    layer = add_result (image, content, style, r.result);
  ns_host_run_clear (&r);
  return layer;
}

static void
read_args (const GimpParam *param,
           LastValues      *vals)
{
  vals->style                  = param[3].data.d_layer;
  vals->params.iterations      = param[4].data.d_int32;
  vals->params.size            = param[5].data.d_int32;
  vals->params.content_weight  = param[6].data.d_float;
  vals->params.style_weight    = param[7].data.d_float;
  vals->params.tv_weight       = param[8].data.d_float;
  vals->params.optimizer       = param[9].data.d_int32;
  vals->params.init            = param[10].data.d_int32;
  vals->params.preserve_colors = param[11].data.d_int32 != 0;
  vals->params.style_scale     = param[12].data.d_float;
  vals->params.seed            = param[13].data.d_int32;
  vals->params.device          = param[14].data.d_int32;
  vals->params.precision       = param[15].data.d_int32;
}

/* The photo the menu was opened on: a mask stands for its layer, a channel
 * for nothing. */
static gint32
photo_of (gint32 drawable)
{
  if (gimp_item_is_valid (drawable) && gimp_item_is_layer_mask (drawable))
    return gimp_layer_from_mask (drawable);
  return gimp_item_is_valid (drawable) && gimp_item_is_layer (drawable) ? drawable : -1;
}

/* The photo and the painting in vals for this image: guessed from the
 * drawable the menu was opened on and the pair in vals (the last run's).
 * FALSE, after a message saying how to add a painting, when there is none. */
static gboolean
guess_pair (gint32       image,
            gint32       drawable,
            LastValues  *vals,
            NsLayerList *layers)
{
  gint selected = photo_of (drawable);

  list_layers (image, layers);
  ns_layers_guess (layers, &selected, selected != -1, vals->content, vals->style,
                   &vals->content, &vals->style);
  if (vals->style != -1)
    return TRUE;
  g_message (_("Neural Style restyles a photo after a painting, and needs both as layers of "
               "one image. Add the painting with File > Open as Layers..., then choose "
               "Filters > Artistic > Neural Style... again."));
  return FALSE;
}

static void
load_last (LastValues *vals)
{
  if (gimp_get_data_size (PLUG_IN_PROC) == sizeof *vals)
    gimp_get_data (PLUG_IN_PROC, vals);
}

/* Interactive: guess the pair, show the dialog.  FALSE when cancelled. */
static gboolean
interactive (gint32              image,
             gint32              drawable,
             gint                nparams,
             const GimpParam    *param,
             LastValues         *vals,
             struct ns_context **ctx)
{
  NsLayerList layers;
  gboolean    ok;

  load_last (vals);
  /* a script that passes every argument gets them as the dialog's start */
  if (nparams == N_ARGS)
    {
      read_args (param, vals);
      vals->content = photo_of (drawable);
    }
  ok = guess_pair (image, drawable, vals, &layers) && show_dialog (vals, &layers, ctx);
  ns_layer_list_clear (&layers);
  return ok;
}

/* The photo, the painting and the settings in *vals for this run mode:
 * the dialog's, the arguments' (an error when they do not fit) or the last
 * run's.  FALSE when the user cancelled or there is no painting to use. */
static gboolean
choose_values (GimpRunMode         run_mode,
               gint32              image,
               gint                nparams,
               const GimpParam    *param,
               LastValues         *vals,
               struct ns_context **ctx,
               GError            **error)
{
  NsLayerList layers;
  gboolean    found;

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      return interactive (image, param[2].data.d_drawable, nparams, param, vals, ctx);

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != N_ARGS)
        g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                     _("Neural Style takes %d arguments, not %d."), N_ARGS, nparams);
      else
        read_args (param, vals);
      return TRUE;

    case GIMP_RUN_WITH_LAST_VALS:  /* Filters > Repeat, maybe on another image */
      load_last (vals);
      found = guess_pair (image, param[2].data.d_drawable, vals, &layers);
      ns_layer_list_clear (&layers);
      return found;
    }
  return TRUE;
}

static void
run (const gchar      *name,
     gint              nparams,
     const GimpParam  *param,
     gint             *nreturn_vals,
     GimpParam       **return_vals)
{
  static GimpParam   values[2];
  GimpRunMode        run_mode = param[0].data.d_int32;
  gint32             image    = param[1].data.d_image;
  LastValues         vals     = { ns_restyle_defaults (), param[2].data.d_drawable, -1 };
  struct ns_context *ctx      = NULL;
  GError            *error    = NULL;
  gint32             layer    = -1;

  ns_restyle_init_i18n ();
  gegl_init (NULL, NULL);

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (! choose_values (run_mode, image, nparams, param, &vals, &ctx, &error))
    {
      ns_context_free (ctx);
      values[0].data.d_status = GIMP_PDB_CANCEL;
      return;
    }

  if (! error &&
      ns_restyle_check_params (&vals.params, &error) &&
      check_layers (image, vals.content, vals.style, &error) &&
      (ctx || (ctx = ns_restyle_open (vals.params.device, &error))))
    {
      layer = restyle (image, vals.content, vals.style, &vals.params, ctx, &error);
    }
  ns_context_free (ctx);

  if (layer != -1)
    {
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_set_data (PLUG_IN_PROC, &vals, sizeof vals);
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();
      *nreturn_vals = 2;
      values[1].type         = GIMP_PDB_LAYER;
      values[1].data.d_layer = layer;
    }
  else if (error)
    {
      values[0].data.d_status = ns_host_status_of (error);
      *nreturn_vals = 2;
      values[1].type          = GIMP_PDB_STRING;
      values[1].data.d_string = g_strdup (error->message);
      /* GIMP shows the message of a failed interactive run itself */
      g_error_free (error);
    }
}
