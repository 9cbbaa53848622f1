/* gimp2.c - the GIMP 2.10 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawable, style-layer, and
 * the first NS_RESTYLE_FIRST_ARGS settings in the table's `arg` order,
 * engine/settings.c; a choice is its index, the device 0 auto, 1 CPU,
 * 2 GPU) -> new-layer
 *
 * plug-in-neural-style2 takes the same, then the settings added later (up
 * to NS_RESTYLE_SECOND_ARGS) and style-layer-2, style-layer-3, blend-1..3,
 * region-1..3 and region-channel-1..3; plug-in-neural-style3 takes every
 * setting (init-model came after) and the same paintings.  Script-Fu 2.10
 * refuses a call whose argument count differs from the procedure's, so each
 * longer list has its own name (as GIMP's file-png-save2 does) and existing
 * calls keep working.
 *
 * The adapter of GIMP 2.10's API under the core (host.c), the arguments
 * and the GimpDialog.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "dialog.h"
#include "host.h"
#include "gimp2.h"
#include "remember.h"

#define PLUG_IN_PROC2  PLUG_IN_PROC "2"
#define PLUG_IN_PROC3  PLUG_IN_PROC "3"
/* run-mode, image, drawable and style-layer come first, the other
 * paintings and their regions last */
#define ARGS_BEFORE    4
#define ARGS_AFTER     11
#define N_ARGS         (ARGS_BEFORE + NS_RESTYLE_FIRST_ARGS)  /* plug-in-neural-style */
#define N_ARGS2        (ARGS_BEFORE + NS_RESTYLE_SECOND_ARGS + ARGS_AFTER) /* plug-in-neural-style2 */
#define N_ARGS3        (ARGS_BEFORE + ns_restyle_n_args () + ARGS_AFTER)   /* plug-in-neural-style3 */


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

/* A setting argument's description: its label and help, and a choice's
 * numbers (GIMP 2.10's procedure browser shows it as written). */
static gchar *
arg_blurb (const struct ns_setting *s)
{
  GString            *text = g_string_new (NULL);
  const gchar *const *labels;
  const gchar *const *nicks = s ? s->choices : ns_restyle_device_choices (&labels);
  gint                n     = s ? ns_restyle_n_choices (s) : (gint) g_strv_length ((gchar **) nicks);
  gint                k;

  if (s)
    {
      gchar **parts = g_strsplit (s->label, "_", -1);  /* the dialog's mnemonic */
      gchar  *label = g_strjoinv ("", parts);

      g_string_printf (text, "%s: %s", label, s->help);
      g_free (label);
      g_strfreev (parts);
    }
  else
    g_string_assign (text, "Where to compute");
  if (s && s->type == NS_SETTING_BOOL)
    g_string_append (text, " { FALSE (0), TRUE (1) }");
  if (s && s->type != NS_SETTING_CHOICE)
    return g_string_free (text, FALSE);
  for (k = 0; k < n; k++)
    g_string_append_printf (text, "%s%s (%d)", k ? ", " : " { ", nicks[k], k);
  g_string_append (text, " }");
  return g_string_free (text, FALSE);
}

static GimpPDBArgType
arg_type (const struct ns_setting *s)
{
  if (s && s->type == NS_SETTING_STRING)
    return GIMP_PDB_STRING;
  if (s && (s->type == NS_SETTING_FLOAT || s->type == NS_SETTING_DOUBLE))
    return GIMP_PDB_FLOAT;
  return GIMP_PDB_INT32;
}

/* The arguments with n_settings settings, in the order scripts pass them
 * (the first N_ARGS are plug-in-neural-style's).  The strings live as long
 * as the plug-in. */
static GimpParamDef *
make_args (gint n_settings)
{
  static const GimpParamDef first[ARGS_BEFORE] =
  {
    { GIMP_PDB_INT32,    "run-mode",        "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE,    "image",           "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",        "The photo: the layer to restyle" },
    { GIMP_PDB_LAYER,    "style-layer",     "The painting (another layer of the same image)" }
  };
  static const GimpParamDef more[ARGS_AFTER] =
  {
    { GIMP_PDB_LAYER,    "style-layer-2",   "A second painting (-1 = none)" },
    { GIMP_PDB_LAYER,    "style-layer-3",   "A third painting (-1 = none; needs a second)" },
    { GIMP_PDB_FLOAT,    "blend-1",         "Weight of the first painting (>= 0; with regions, its strength there)" },
    { GIMP_PDB_FLOAT,    "blend-2",         "Weight of the second painting" },
    { GIMP_PDB_FLOAT,    "blend-3",         "Weight of the third painting" },
    { GIMP_PDB_INT32,    "region-1",        "Where the first painting acts { the whole photo (0), the selection (1), "
                                            "its layer mask (2), region-channel-1 (3) }; outside every region "
                                            "the photo stays" },
    { GIMP_PDB_INT32,    "region-2",        "Where the second painting acts (as region-1)" },
    { GIMP_PDB_INT32,    "region-3",        "Where the third painting acts (as region-1)" },
    { GIMP_PDB_CHANNEL,  "region-channel-1", "The first painting's channel for region 3 (-1 = none)" },
    { GIMP_PDB_CHANNEL,  "region-channel-2", "The second painting's channel" },
    { GIMP_PDB_CHANNEL,  "region-channel-3", "The third painting's channel" }
  };
  GimpParamDef *args = g_new0 (GimpParamDef, ARGS_BEFORE + n_settings + ARGS_AFTER);
  gint          pos;

  memcpy (args, first, sizeof first);
  for (pos = 1; pos <= n_settings; pos++)
    {
      const struct ns_setting *s = ns_restyle_arg (pos);
      GimpParamDef            *a = &args[ARGS_BEFORE - 1 + pos];

      a->type        = arg_type (s);
      a->name        = (gchar *) (s ? s->name : "device");
      a->description = arg_blurb (s);
    }
  memcpy (args + ARGS_BEFORE + n_settings, more, sizeof more);
  return args;
}

/* One of the procedures: its name, words, menu label (NULL = none) and
 * arguments (the settings' count decides which). */
static void
install (const gchar *name,
         const gchar *blurb,
         const gchar *help,
         const gchar *menu_label,
         gint         n_settings)
{
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER, "new-layer", "The restyled layer, above the photo" }
  };
  gint          n    = n_settings == NS_RESTYLE_FIRST_ARGS ? N_ARGS : ARGS_BEFORE + n_settings + ARGS_AFTER;
  GimpParamDef *args = make_args (n_settings);

  gimp_install_procedure (name, blurb, help,
                          "Neural Style for GIMP developers",
                          "Neural Style for GIMP developers",
                          "2026",
                          menu_label,
                          "RGB*, GRAY*",
                          GIMP_PLUGIN,
                          n, G_N_ELEMENTS (return_vals),
                          args, return_vals);
}

static void
query (void)
{
  gchar *dir  = ns_restyle_plugin_dir ();
  gchar *loc  = g_build_filename (dir, "locale", NULL);
  gchar *help = g_build_filename (dir, "help", NULL);
  gchar *uri  = g_filename_to_uri (help, NULL, NULL);

  gimp_plugin_domain_register (GETTEXT_PACKAGE, loc);
  gimp_plugin_help_register (NS_HELP_DOMAIN, uri);

  install (PLUG_IN_PROC,
           N_("Restyle a photo after a painting (neural style transfer)"),
           "Optimizes a new layer so that its VGG-19 features match the "
           "photo and its Gram matrices match the painting "
           "(Gatys, Ecker & Bethge 2016). The result lands in a new layer "
           "above the photo; with a selection only the selected part is "
           "restyled. A visible painting above the photo is hidden so that "
           "the result shows.",
           N_("_Neural Style..."), NS_RESTYLE_FIRST_ARGS);
  install (PLUG_IN_PROC2,
           "Restyle a photo after up to three paintings, each in its own region",
           "plug-in-neural-style with the settings added later (the published "
           "improvements and colour matching) and up to three "
           "paintings, blended by weight or each acting in its region (the "
           "selection, the painting layer's mask or a channel); outside every "
           "region the photo stays as it is.",
           NULL, NS_RESTYLE_SECOND_ARGS);
  install (PLUG_IN_PROC3,
           "Restyle a photo after up to three paintings, each in its own region",
           "plug-in-neural-style2 with the settings added since (init-model: the "
           "fast style the run starts from, with init 2).",
           NULL, ns_restyle_n_args ());

  gimp_plugin_menu_register (PLUG_IN_PROC, "<Image>/Filters/Artistic");
  ns_gimp2_fast_query ();
  ns_gimp2_train_query ();
  g_free (uri);
  g_free (help);
  g_free (loc);
  g_free (dir);
}

/* ---- the host: GIMP 2.10's API under the core ---- */

static void
gimp2_item_info (gint        id,
           NsItemInfo *info)
{
  GimpParasite *mark;

  if (! gimp_item_is_valid (id))
    return;
  info->kind = gimp_item_is_layer_mask (id) ? NS_ITEM_MASK :
               gimp_item_is_layer (id) ? NS_ITEM_LAYER :
               gimp_item_is_channel (id) ? NS_ITEM_CHANNEL : NS_ITEM_OTHER;
  info->image = gimp_item_get_image (id);
  if (info->kind == NS_ITEM_MASK)
    info->owner = gimp_layer_from_mask (id);
  if (info->kind == NS_ITEM_OTHER)
    return;
  info->width   = gimp_drawable_width (id);
  info->height  = gimp_drawable_height (id);
  gimp_drawable_offsets (id, &info->x, &info->y);
  info->visible = gimp_item_get_visible (id);
  info->group   = gimp_item_is_group (id);
  if (info->kind != NS_ITEM_LAYER)
    return;
  mark          = gimp_item_get_parasite (id, NS_RESULT_PARASITE);
  info->result  = mark != NULL;
  info->mask    = info->group ? -1 : gimp_layer_get_mask (id);
  gimp_parasite_free (mark);
}

static void
gimp2_image_info (gint         image,
            NsImageInfo *info)
{
  gchar *uri  = gimp_image_get_imported_uri (image);
  gchar *file = uri ? g_filename_from_uri (uri, NULL, NULL) : gimp_image_get_filename (image);

  info->width           = gimp_image_width (image);
  info->height          = gimp_image_height (image);
  info->indexed         = gimp_image_base_type (image) == GIMP_INDEXED;
  info->selection       = gimp_image_get_selection (image);
  info->selection_empty = gimp_selection_is_empty (image);
  info->file            = file ? g_path_get_basename (file) : NULL;
  g_free (file);
  g_free (uri);
}

static gint *
gimp2_children (gint  image,
          gint  group,
          gint *n)
{
  return group == -1 ? gimp_image_get_layers (image, n) : gimp_item_get_children (group, n);
}

static gint *
gimp2_channels (gint  image,
          gint *n)
{
  return gimp_image_get_channels (image, n);
}

static GeglBuffer *
gimp2_layer_buffer (gint id)
{
  return gimp_drawable_get_buffer (id);
}

static GdkPixbuf *
gimp2_layer_thumbnail (gint id,
                 gint size)
{
  return gimp_drawable_get_thumbnail (id, size, size, GIMP_PIXBUF_SMALL_CHECKS);
}

static gboolean
gimp2_mask_intersect (gint           drawable,
                GeglRectangle *area)
{
  return gimp_drawable_mask_intersect (drawable, &area->x, &area->y, &area->width, &area->height);
}

static gint
gimp2_new_layer (gint         image,
           gint         like,
           gint         above,
           const gchar *name)
{
  GimpParasite *mark  = gimp_parasite_new (NS_RESULT_PARASITE, GIMP_PARASITE_PERSISTENT, 1, "1");
  gint32        layer = gimp_layer_new (image, name, gimp_drawable_width (like), gimp_drawable_height (like),
                                        gimp_drawable_type (like), 100.0, GIMP_LAYER_MODE_NORMAL);
  gint          x, y;

  /* the mark before the layer is in the image: attached later, GIMP
   * pushes a "Can't undo Attach Parasite to Item" step into the group,
   * and every Undo of the run pops that message */
  gimp_item_attach_parasite (layer, mark);
  gimp_parasite_free (mark);
  gimp_image_insert_layer (image, layer, gimp_item_get_parent (like),
                           gimp_image_get_item_position (image, above));
  gimp_drawable_offsets (like, &x, &y);
  gimp_layer_set_offsets (layer, x, y);
  return layer;
}

static gint
gimp2_add_mask (gint layer)
{
  gint32 mask = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);

  gimp_layer_add_mask (layer, mask);
  return mask;
}

static void
gimp2_update (gint drawable)
{
  gimp_drawable_update (drawable, 0, 0, gimp_drawable_width (drawable), gimp_drawable_height (drawable));
}

static void
gimp2_set_visible (gint     id,
             gboolean visible)
{
  gimp_item_set_visible (id, visible);
}

static void
gimp2_select_layer (gint image,
              gint layer)
{
  gimp_image_set_active_layer (image, layer);
}

static void
gimp2_undo_group (gint     image,
            gboolean start)
{
  if (start)
    gimp_image_undo_group_start (image);
  else
    gimp_image_undo_group_end (image);
}

const NsHostOps gimp2_ops =
{
  gimp2_item_info, gimp_item_get_name, gimp2_image_info, gimp2_children, gimp2_channels,
  gimp2_layer_buffer, gimp2_layer_thumbnail, gimp2_mask_intersect, gimp2_new_layer, gimp2_add_mask,
  gimp2_update, gimp2_set_visible, gimp2_select_layer, gimp2_undo_group
};

/* ---- dialog ---- */

static gboolean
gimp2_show_dialog (NsHostChoice       *vals,
             const NsLayerList  *layers,
             struct ns_context **ctx)
{
  NsDialogHost host = { gimp2_layer_buffer, gimp2_layer_thumbnail, NULL, NULL };
  NsDialog    *d;
  GtkWidget   *dialog;
  gint         response;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = ns_gimp2_dialog_new (_("Neural Style"), PLUG_IN_ROLE, PLUG_IN_PROC);

  d = ns_dialog_new (dialog, &host, layers, &vals->params, &vals->content, vals->styles, vals->channels, ctx);
  gtk_widget_show (dialog);
  while ((response = gimp_dialog_run (GIMP_DIALOG (dialog))) == NS_GIMP2_RESPONSE_RESET)
    {
      NsRestyleParams defaults = ns_restyle_defaults ();

      ns_dialog_set_params (d, &defaults);
    }
  ns_dialog_free (d);
  gtk_widget_destroy (dialog);
  return response == GTK_RESPONSE_OK;
}

/* ---- run ---- */

/* One setting argument into p (NULL s: the device). */
static void
read_arg (const struct ns_setting *s,
          const GimpParam         *param,
          NsRestyleParams         *p)
{
  if (! s)
    p->device = param->data.d_int32;
  else if (s->type == NS_SETTING_STRING)
    ns_restyle_set_text (p, s, param->data.d_string);
  else if (param->type == GIMP_PDB_FLOAT)
    ns_restyle_set (p, s, param->data.d_float);
  else
    ns_restyle_set (p, s, param->data.d_int32);
}

static void
read_args (const GimpParam *param,
           gint             nparams,
           NsHostChoice      *vals)
{
  NsRestyleParams *p     = &vals->params;
  NsRestyleParams  last  = *p;
  gint             n     = nparams == N_ARGS ? NS_RESTYLE_FIRST_ARGS
                         : nparams == N_ARGS2 ? NS_RESTYLE_SECOND_ARGS : ns_restyle_n_args ();
  const GimpParam *after = param + ARGS_BEFORE + n;
  gint             pos, k;

  /* plug-in-neural-style: one painting, the later settings' defaults */
  *p = ns_restyle_defaults ();
  ns_restyle_keep_machine (p, &last);
  vals->styles[0] = param[3].data.d_layer;
  for (pos = 1; pos <= n; pos++)
    read_arg (ns_restyle_arg (pos), &param[ARGS_BEFORE - 1 + pos], p);
  vals->styles[1] = vals->styles[2] = -1;
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    vals->channels[k] = -1;
  if (nparams == N_ARGS)
    return;
  vals->styles[1] = after[0].data.d_layer;
  vals->styles[2] = after[1].data.d_layer;
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      p->blend[k]       = after[2 + k].data.d_float;
      p->region[k]      = after[5 + k].data.d_int32;
      vals->channels[k] = after[8 + k].data.d_channel;
    }
  /* a third painting without a second: both counted, the second refused */
  p->paintings = vals->styles[2] > 0 ? 3 : vals->styles[1] > 0 ? 2 : 1;
}

/* The photo and the painting in vals for this image: guessed from the
 * drawable the menu was opened on and the pair in vals (the last run's).
 * FALSE, after a message, when there is no painting. */
static gboolean
guess_pair (gint32        image,
            gint32        drawable,
            NsHostChoice *vals,
            NsLayerList  *layers)
{
  gint selected = ns_host_photo_of (&gimp2_ops, drawable);

  return ns_host_guess (&gimp2_ops, image, &selected, selected != -1, vals, layers);
}

/* The settings file GIMP 2.10 keeps across restarts (GIMP 3's config
 * does this itself). */
static gchar *
remember_path (void)
{
  return g_build_filename (gimp_directory (), NS_REMEMBER_FILE, NULL);
}

/* The last session's settings, then this session's last values (which
 * hold the layers too). */
static void
load_last (NsHostChoice *vals)
{
  gchar *path = remember_path ();

  ns_remember_load (&vals->params, path);
  g_free (path);
  if (gimp_get_data_size (PLUG_IN_PROC) == sizeof *vals)
    gimp_get_data (PLUG_IN_PROC, vals);
}

/* Interactive: guess the pair, show the dialog.  FALSE when cancelled. */
static gboolean
interactive (gint32              image,
             gint32              drawable,
             gint                nparams,
             const GimpParam    *param,
             NsHostChoice       *vals,
             struct ns_context **ctx)
{
  NsLayerList layers;
  gboolean    ok;

  load_last (vals);
  /* a script that passes every argument gets them as the dialog's start */
  if (nparams == N_ARGS || nparams == N_ARGS2 || nparams == N_ARGS3)
    {
      read_args (param, nparams, vals);
      vals->content = ns_host_photo_of (&gimp2_ops, drawable);
    }
  ok = guess_pair (image, drawable, vals, &layers) && gimp2_show_dialog (vals, &layers, ctx);
  ns_layer_list_clear (&layers);
  return ok;
}

/* The photo, the paintings and the settings in *vals for this run mode:
 * the dialog's, the arguments' (an error when they do not fit) or the last
 * run's.  FALSE when the user cancelled or there is no painting to use. */
static gboolean
choose_values (const gchar        *name,
               GimpRunMode         run_mode,
               gint32              image,
               gint                nparams,
               const GimpParam    *param,
               NsHostChoice       *vals,
               struct ns_context **ctx,
               GError            **error)
{
  NsLayerList layers;
  gboolean    found;
  gint        want = ! strcmp (name, PLUG_IN_PROC2) ? N_ARGS2 : ! strcmp (name, PLUG_IN_PROC3) ? N_ARGS3 : N_ARGS;

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      return interactive (image, param[2].data.d_drawable, nparams, param, vals, ctx);

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != want)
        g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                     _("Neural Style takes %d arguments, not %d."), want, nparams);
      else
        read_args (param, nparams, vals);
      return TRUE;

    case GIMP_RUN_WITH_LAST_VALS:  /* Filters > Repeat, maybe on another image */
      load_last (vals);
      found = guess_pair (image, param[2].data.d_drawable, vals, &layers);
      ns_layer_list_clear (&layers);
      return found;
    }
  return TRUE;
}

GtkWidget *
ns_gimp2_dialog_new (const gchar *title,
                     const gchar *role,
                     const gchar *help_id)
{
  GtkWidget *dialog = gimp_dialog_new (title, role, NULL, 0, gimp_standard_help_func, help_id,
                                       _("_Reset"),  NS_GIMP2_RESPONSE_RESET,
                                       _("_Cancel"), GTK_RESPONSE_CANCEL,
                                       _("_OK"),     GTK_RESPONSE_OK,
                                       NULL);

  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog), NS_GIMP2_RESPONSE_RESET, GTK_RESPONSE_OK,
                                           GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));
  return dialog;
}

void
ns_gimp2_return (GimpRunMode  run_mode,
                 gint         layer,
                 GError      *error,
                 GimpParam   *values,
                 gint        *nreturn_vals)
{
  if (layer != -1)
    {
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
  NsHostChoice       vals     = ns_host_choice_new ();
  struct ns_context *ctx      = NULL;
  GError            *error    = NULL;
  gint32             layer    = -1;

  ns_restyle_init_i18n ();
  gegl_init (NULL, NULL);
  if (! strcmp (name, NS_FAST_PROC))
    {
      ns_gimp2_fast_run (nparams, param, nreturn_vals, return_vals);
      return;
    }
  if (! strcmp (name, NS_TRAIN_PROC))
    {
      ns_gimp2_train_run (nparams, param, nreturn_vals, return_vals);
      return;
    }
  vals.content = param[2].data.d_drawable;

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (! choose_values (name, run_mode, image, nparams, param, &vals, &ctx, &error))
    {
      ns_context_free (ctx);
      values[0].data.d_status = GIMP_PDB_CANCEL;
      return;
    }

  if (! error)
    layer = ns_host_run (&gimp2_ops, image, &vals, &ctx, &error);
  ns_context_free (ctx);

  if (layer != -1 && run_mode == GIMP_RUN_INTERACTIVE)
    {
      gchar *path = remember_path ();

      gimp_set_data (PLUG_IN_PROC, &vals, sizeof vals);
      ns_remember_save (&vals.params, path, NULL);  /* a failure costs only the memory */
      g_free (path);
    }
  ns_gimp2_return (run_mode, layer, error, values, nreturn_vals);
}
