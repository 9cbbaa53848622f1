/* gimp3.c - the GIMP 3.0 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawables, style-layer, the
 * settings in the table's `arg` order (engine/settings.c; a choice is a
 * GimpChoice named as on the command line, the device "auto", "cpu" or
 * "gpu"), style-layer-2, style-layer-3, blend-1..3, region-1..3,
 * region-channel-1..3) -> new-layer.
 *
 * The adapter of GIMP 3's API under the core (host.c), the arguments and
 * the config, and the GimpProcedureDialog.
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "dialog.h"
#include "gimp3.h"
#include "host.h"

typedef struct _NeuralStyle      NeuralStyle;
typedef struct _NeuralStyleClass NeuralStyleClass;

struct _NeuralStyle
{
  GimpPlugIn parent_instance;
};

struct _NeuralStyleClass
{
  GimpPlugInClass parent_class;
};

#define NEURAL_STYLE_TYPE (neural_style_get_type ())

GType                   neural_style_get_type         (void) G_GNUC_CONST;
static GList          * neural_style_query_procedures (GimpPlugIn           *plug_in);
static GimpProcedure  * neural_style_create_procedure (GimpPlugIn           *plug_in,
                                                       const gchar          *name);
static gboolean         neural_style_set_i18n         (GimpPlugIn           *plug_in,
                                                       const gchar          *procedure_name,
                                                       gchar               **gettext_domain,
                                                       gchar               **catalog_dir);
static GimpValueArray * neural_style_run              (GimpProcedure        *procedure,
                                                       GimpRunMode           run_mode,
                                                       GimpImage            *image,
                                                       GimpDrawable        **drawables,
                                                       GimpProcedureConfig  *config,
                                                       gpointer              run_data);

G_DEFINE_TYPE (NeuralStyle, neural_style, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (NEURAL_STYLE_TYPE)

/* the regions' GimpChoice nicks, in the order of NsRegionChoice */
static const gchar *region_nicks[]    = { "whole", "selection", "layer-mask", "channel" };

static void
neural_style_class_init (NeuralStyleClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = neural_style_query_procedures;
  plug_in_class->create_procedure = neural_style_create_procedure;
  plug_in_class->set_i18n         = neural_style_set_i18n;
}

static void
neural_style_init (NeuralStyle *plugin)
{
}

static GList *
neural_style_query_procedures (GimpPlugIn *plug_in)
{
  gchar *dir  = ns_restyle_plugin_dir ();
  gchar *help = g_build_filename (dir, "help", NULL);
  GFile *uri  = g_file_new_for_path (help);

  gimp_plug_in_set_help_domain (plug_in, NS_HELP_DOMAIN, uri);
  g_object_unref (uri);
  g_free (help);
  g_free (dir);
  return g_list_append (g_list_append (g_list_append (NULL, g_strdup (PLUG_IN_PROC)), g_strdup (NS_FAST_PROC)),
                        g_strdup (NS_TRAIN_PROC));
}

/* The same catalogue and folder as the GIMP 2.10 plug-in: locale/ beside
 * the binary, domain gimp-neural-style. */
static gboolean
neural_style_set_i18n (GimpPlugIn   *plug_in,
                       const gchar  *procedure_name,
                       gchar       **gettext_domain,
                       gchar       **catalog_dir)
{
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  *catalog_dir    = g_strdup ("locale");
  return TRUE;
}

static void
add_choice (GimpProcedure *procedure,
            const gchar   *name,
            const gchar   *nick,
            const gchar   *blurb,
            GimpChoice    *choice,
            const gchar   *value)
{
  gimp_procedure_add_choice_argument (procedure, name, nick, blurb, choice, value, G_PARAM_READWRITE);
}

/* A choice of nicks (the first n), its ids their indices. */
static GimpChoice *
choice_new (const gchar *const *nicks,
            const gchar *const *labels,
            gint                n)
{
  GimpChoice *choice = gimp_choice_new ();
  gint        k;

  for (k = 0; k < n; k++)
    gimp_choice_add (choice, nicks[k], k, labels ? _(labels[k]) : nicks[k], NULL);
  return choice;
}

/* One setting argument of the table (s), or the device (NULL), to the
 * procedure (data), with the plug-in's default.  The rows kept as this
 * machine's own are aux arguments: GIMP keeps them with the dialog's
 * values and Script-Fu calls do not pass them. */
static void
add_setting (const struct ns_setting *s,
             gpointer                 data)
{
  GimpProcedure        *procedure = data;
  const NsRestyleParams defaults  = ns_restyle_defaults ();
  const NsRestyleParams *def      = &defaults;
  const gchar *const   *labels;
  const gchar *const   *nicks;
  GParamFlags           rw = G_PARAM_READWRITE;
  gdouble               v  = s ? ns_restyle_get (def, s) : def->device;

  if (! s)
    {
      nicks = ns_restyle_device_choices (&labels);
      gimp_procedure_add_choice_argument (procedure, "device", _("Compute on"), _("Where to compute"),
                                          choice_new (nicks, labels, g_strv_length ((gchar **) nicks)),
                                          nicks[def->device], rw);
      return;
    }
  switch (s->type)
    {
    case NS_SETTING_INT:
      gimp_procedure_add_int_argument (procedure, s->name, _(s->label), _(s->help), s->min, s->max, v, rw);
      break;
    case NS_SETTING_U64:
      gimp_procedure_add_int_argument (procedure, s->name, _(s->label), _(s->help), 0, G_MAXINT,
                                       MIN (v, G_MAXINT), rw);
      break;
    case NS_SETTING_FLOAT:
    case NS_SETTING_DOUBLE:
      if (s->arg == NS_SETTING_ARG_AUX)
        gimp_procedure_add_double_aux_argument (procedure, s->name, _(s->label), _(s->help), s->min, s->max,
                                                v, rw);
      else
        gimp_procedure_add_double_argument (procedure, s->name, _(s->label), _(s->help), s->min, s->max, v,
                                            rw);
      break;
    case NS_SETTING_BOOL:
      gimp_procedure_add_boolean_argument (procedure, s->name, _(s->label), _(s->help), v != 0, rw);
      break;
    case NS_SETTING_CHOICE:
      gimp_procedure_add_choice_argument (procedure, s->name, _(s->label), _(s->help),
                                          choice_new (s->choices, s->choice_labels, ns_restyle_n_choices (s)),
                                          s->choices[(gint) v], rw);
      break;
    case NS_SETTING_STRING:
      gimp_procedure_add_string_argument (procedure, s->name, _(s->label), _(s->help),
                                          ns_restyle_get_text (def, s), rw);
      break;
    }
}

/* The second and third paintings, each painting's weight and region. */
static void
add_paintings (GimpProcedure *procedure)
{
  gint k;

  for (k = 2; k <= NS_MAX_PAINTINGS; k++)
    {
      gchar *name = g_strdup_printf ("style-layer-%d", k);
      /* TRANSLATORS: %d is 2 or 3 */
      gchar *nick = g_strdup_printf (_("Painting %d"), k);

      gimp_procedure_add_layer_argument (procedure, name, nick,
                                         _("Another painting, blended by weight or in its own "
                                           "region (none = not used)"),
                                         TRUE, G_PARAM_READWRITE);
      g_free (nick);
      g_free (name);
    }
  for (k = 1; k <= NS_MAX_PAINTINGS; k++)
    {
      gchar *name = g_strdup_printf ("blend-%d", k);
      gchar *nick = g_strdup_printf (_("Weight of painting %d"), k);

      gimp_procedure_add_double_argument (procedure, name, nick,
                                          _("The painting's share of the style (with regions: its "
                                            "strength there)"),
                                          0.0, 1e6, 1.0, G_PARAM_READWRITE);
      g_free (nick);
      g_free (name);
      name = g_strdup_printf ("region-%d", k);
      nick = g_strdup_printf (_("Region of painting %d"), k);
      add_choice (procedure, name, nick, _("Where the painting acts; outside every region the photo stays"),
                  gimp_choice_new_with_values ("whole", NS_REGION_CHOICE_WHOLE, _("The whole photo"), NULL,
                                               "selection", NS_REGION_CHOICE_SELECTION, _("The selection"),
                                               NULL,
                                               "layer-mask", NS_REGION_CHOICE_LAYER_MASK,
                                               _("The painting's layer mask"), NULL,
                                               "channel", NS_REGION_CHOICE_CHANNEL, _("A channel"), NULL,
                                               NULL),
                  "whole");
      g_free (nick);
      g_free (name);
      name = g_strdup_printf ("region-channel-%d", k);
      nick = g_strdup_printf (_("Channel of painting %d"), k);
      gimp_procedure_add_channel_argument (procedure, name, nick,
                                           _("The channel that is the region (white = the painting "
                                             "acts)"),
                                           TRUE, G_PARAM_READWRITE);
      g_free (nick);
      g_free (name);
    }
}

/* The procedure's arguments, in the order Script-Fu passes them. */
static void
add_arguments (GimpProcedure *procedure)
{
  gint k;

  gimp_procedure_add_layer_argument (procedure, "style-layer", _("Painting"),
                                     _("The painting: another layer of the same image"),
                                     TRUE, G_PARAM_READWRITE);
  ns_restyle_foreach_setting (add_setting, procedure);
  add_paintings (procedure);
  /* the last run's photo and painting (GimpConfig cannot store layers) */
  gimp_procedure_add_int_aux_argument (procedure, "last-content", "last-content", "",
                                       -1, G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_int_aux_argument (procedure, "last-style", "last-style", "",
                                       -1, G_MAXINT, -1, G_PARAM_READWRITE);
  for (k = 1; k <= NS_MAX_PAINTINGS; k++)
    {
      gchar *s = g_strdup_printf ("last-style-%d", k);
      gchar *c = g_strdup_printf ("last-channel-%d", k);

      if (k > 1)
        gimp_procedure_add_int_aux_argument (procedure, s, s, "", -1, G_MAXINT, -1, G_PARAM_READWRITE);
      gimp_procedure_add_int_aux_argument (procedure, c, c, "", -1, G_MAXINT, -1, G_PARAM_READWRITE);
      g_free (s);
      g_free (c);
    }
}

static GimpProcedure *
neural_style_create_procedure (GimpPlugIn  *plug_in,
                               const gchar *name)
{
  GimpProcedure *procedure;

  if (g_strcmp0 (name, NS_FAST_PROC) == 0)
    return ns_gimp3_fast_procedure (plug_in);
  if (g_strcmp0 (name, NS_TRAIN_PROC) == 0)
    return ns_gimp3_train_procedure (plug_in);
  if (g_strcmp0 (name, PLUG_IN_PROC) != 0)
    return NULL;

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        neural_style_run, NULL, NULL);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE |
                                                  GIMP_PROCEDURE_SENSITIVE_DRAWABLES);
  gimp_procedure_set_menu_label (procedure, _("_Neural Style..."));
  gimp_procedure_add_menu_path (procedure, "<Image>/Filters/Artistic");
  gimp_procedure_set_documentation (procedure,
                                    _("Restyle a photo after a painting (neural style transfer)"),
                                    "Optimizes a new layer so that its VGG-19 features match "
                                    "the photo and its Gram matrices match the painting "
                                    "(Gatys, Ecker & Bethge 2016). The result lands in a new "
                                    "layer above the photo; with a selection only the selected "
                                    "part is restyled. A visible painting above the photo is "
                                    "hidden so that the result shows.",
                                    PLUG_IN_PROC);
  gimp_procedure_set_attribution (procedure, "Neural Style for GIMP developers",
                                  "Neural Style for GIMP developers", "2026");

  add_arguments (procedure);
  gimp_procedure_add_layer_return_value (procedure, "new-layer", _("New layer"),
                                         _("The restyled layer, above the photo"),
                                         FALSE, G_PARAM_READWRITE);
  return procedure;
}

/* ---- the config <-> NsRestyleParams ---- */

typedef struct
{
  GimpProcedureConfig *config;
  NsRestyleParams     *params;
} FromConfig;

/* One setting from the config into the params (NULL s: the device). */
static void
setting_from_config (const struct ns_setting *s,
                     gpointer                 data)
{
  GimpProcedureConfig *config = ((FromConfig *) data)->config;
  NsRestyleParams     *p      = ((FromConfig *) data)->params;
  gint     i = 0;
  gdouble  d = 0;
  gboolean b = FALSE;
  gchar   *text = NULL;

  if (! s)
    p->device = gimp_procedure_config_get_choice_id (config, "device");
  else if (s->type == NS_SETTING_CHOICE)
    ns_restyle_set (p, s, gimp_procedure_config_get_choice_id (config, s->name));
  else if (s->type == NS_SETTING_INT || s->type == NS_SETTING_U64)
    g_object_get (config, s->name, &i, NULL), ns_restyle_set (p, s, i);
  else if (s->type == NS_SETTING_BOOL)
    g_object_get (config, s->name, &b, NULL), ns_restyle_set (p, s, b);
  else if (s->type == NS_SETTING_STRING)
    g_object_get (config, s->name, &text, NULL), ns_restyle_set_text (p, s, text);
  else
    g_object_get (config, s->name, &d, NULL), ns_restyle_set (p, s, d);
  g_free (text);
}

static NsRestyleParams
params_from_config (GimpProcedureConfig *config)
{
  NsRestyleParams p = ns_restyle_defaults ();
  FromConfig      from = { config, &p };
  gint            k;

  ns_restyle_foreach_setting (setting_from_config, &from);
  p.paintings = 1;
  for (k = 1; k <= NS_MAX_PAINTINGS; k++)
    {
      gchar     *blend  = g_strdup_printf ("blend-%d", k);
      gchar     *region = g_strdup_printf ("region-%d", k);
      gchar     *layer  = g_strdup_printf ("style-layer-%d", k);
      GimpLayer *l      = NULL;

      g_object_get (config, blend, &p.blend[k - 1], NULL);
      p.region[k - 1] = gimp_procedure_config_get_choice_id (config, region);
      if (k > 1)
        {
          g_object_get (config, layer, &l, NULL);
          if (l)
            p.paintings = k;  /* painting 3 without 2: the two in use, the unset one refused */
          g_clear_object (&l);
        }
      g_free (blend);
      g_free (region);
      g_free (layer);
    }
  return p;
}

typedef struct
{
  GimpProcedureConfig   *config;
  const NsRestyleParams *params;
} ToConfig;

/* One setting of the params into the config, within the argument's range. */
static void
setting_to_config (const struct ns_setting *s,
                   gpointer                 data)
{
  GimpProcedureConfig   *config = ((ToConfig *) data)->config;
  const NsRestyleParams *p      = ((ToConfig *) data)->params;
  const gchar *const *nicks = s ? s->choices : ns_restyle_device_choices (NULL);
  gdouble             v     = s ? ns_restyle_get (p, s) : p->device;
  gint                top   = s ? ns_restyle_n_choices (s) - 1 : 2;

  if (! s || s->type == NS_SETTING_CHOICE)
    g_object_set (config, s ? s->name : "device", nicks[(gint) CLAMP (v, 0, top)], NULL);
  else if (s->type == NS_SETTING_INT)
    g_object_set (config, s->name, (gint) CLAMP (v, s->min, s->max), NULL);
  else if (s->type == NS_SETTING_U64)
    g_object_set (config, s->name, (gint) CLAMP (v, 0, G_MAXINT), NULL);
  else if (s->type == NS_SETTING_BOOL)
    g_object_set (config, s->name, (gboolean) (v != 0), NULL);
  else if (s->type == NS_SETTING_STRING)
    g_object_set (config, s->name, ns_restyle_get_text (p, s), NULL);
  else
    g_object_set (config, s->name, CLAMP (v, s->min, s->max), NULL);
}

typedef struct
{
  GimpProcedureConfig *config;
  NsDialog            *dialog;
  gboolean             pushing;  /* the dialog is writing the config */
} Sync;

static void
params_to_config (const NsRestyleParams *p,
                  gpointer               data)
{
  Sync     *s  = data;
  ToConfig  to = { s->config, p };
  gint      k;

  s->pushing = TRUE;
  ns_restyle_foreach_setting (setting_to_config, &to);
  for (k = 1; k <= NS_MAX_PAINTINGS; k++)
    {
      gchar *blend  = g_strdup_printf ("blend-%d", k);
      gchar *region = g_strdup_printf ("region-%d", k);

      g_object_set (s->config, blend, CLAMP (p->blend[k - 1], 0.0, 1e6),
                    region, region_nicks[CLAMP (p->region[k - 1], 0, 3)], NULL);
      g_free (blend);
      g_free (region);
    }
  s->pushing = FALSE;
}

/* Reset and saved settings change the config: show them */
static void
config_changed (GObject    *config,
                GParamSpec *pspec,
                Sync       *s)
{
  NsRestyleParams p;

  if (s->pushing || ! s->dialog)
    return;
  p = params_from_config (s->config);
  ns_dialog_set_params (s->dialog, &p);
}

/* ---- the host: GIMP 3's API under the core, by ID ---- */

static void
gimp3_item_info (gint        id,
           NsItemInfo *info)
{
  GimpItem     *item = gimp_item_get_by_id (id);
  GimpParasite *mark;

  if (! item)
    return;
  info->kind  = GIMP_IS_LAYER_MASK (item) ? NS_ITEM_MASK :
                GIMP_IS_LAYER (item) ? NS_ITEM_LAYER :
                GIMP_IS_CHANNEL (item) ? NS_ITEM_CHANNEL : NS_ITEM_OTHER;
  info->image = gimp_image_get_id (gimp_item_get_image (item));
  if (info->kind == NS_ITEM_MASK)
    info->owner = gimp_item_get_id (GIMP_ITEM (gimp_layer_from_mask (GIMP_LAYER_MASK (item))));
  if (info->kind == NS_ITEM_OTHER)
    return;
  info->width   = gimp_drawable_get_width (GIMP_DRAWABLE (item));
  info->height  = gimp_drawable_get_height (GIMP_DRAWABLE (item));
  gimp_drawable_get_offsets (GIMP_DRAWABLE (item), &info->x, &info->y);
  info->visible = gimp_item_get_visible (item);
  info->group   = gimp_item_is_group (item);
  if (info->kind != NS_ITEM_LAYER)
    return;
  mark          = gimp_item_get_parasite (item, NS_RESULT_PARASITE);
  info->result  = mark != NULL;
  info->mask    = ! info->group && gimp_layer_get_mask (GIMP_LAYER (item))
                    ? gimp_item_get_id (GIMP_ITEM (gimp_layer_get_mask (GIMP_LAYER (item)))) : -1;
  gimp_parasite_free (mark);
}

static gchar *
gimp3_item_name (gint id)
{
  GimpItem *item = gimp_item_get_by_id (id);

  return item ? gimp_item_get_name (item) : g_strdup ("");
}

static void
gimp3_image_info (gint         id,
            NsImageInfo *info)
{
  GimpImage *image = gimp_image_get_by_id (id);
  GFile     *file  = gimp_image_get_imported_file (image);

  if (! file)
    file = gimp_image_get_file (image);
  info->width           = gimp_image_get_width (image);
  info->height          = gimp_image_get_height (image);
  info->indexed         = gimp_image_get_base_type (image) == GIMP_INDEXED;
  info->selection       = gimp_item_get_id (GIMP_ITEM (gimp_image_get_selection (image)));
  info->selection_empty = gimp_selection_is_empty (image);
  info->file            = file ? g_file_get_basename (file) : NULL;
  g_clear_object (&file);
}

/* The IDs of a NULL-terminated array of items, which is freed. */
static gint *
gimp3_ids_of (gpointer  items,
        gint     *n)
{
  GimpItem **list = items;
  gint      *ids;
  gint       i;

  for (*n = 0; list && list[*n]; (*n)++)
    ;
  ids = g_new (gint, MAX (*n, 1));
  for (i = 0; i < *n; i++)
    ids[i] = gimp_item_get_id (list[i]);
  g_free (list);
  return ids;
}

static gint *
gimp3_children (gint  image,
          gint  group,
          gint *n)
{
  if (group == -1)
    return gimp3_ids_of (gimp_image_get_layers (gimp_image_get_by_id (image)), n);
  return gimp3_ids_of (gimp_item_get_children (gimp_item_get_by_id (group)), n);
}

static gint *
gimp3_channels (gint  image,
          gint *n)
{
  return gimp3_ids_of (gimp_image_get_channels (gimp_image_get_by_id (image)), n);
}

static GimpDrawable *
gimp3_drawable_of (gint id)
{
  return GIMP_DRAWABLE (gimp_item_get_by_id (id));
}

static GeglBuffer *
gimp3_layer_buffer (gint id)
{
  return gimp_drawable_get_buffer (gimp3_drawable_of (id));
}

static GdkPixbuf *
gimp3_layer_thumbnail (gint id,
                 gint size)
{
  return gimp_drawable_get_thumbnail (gimp3_drawable_of (id), size, size, GIMP_PIXBUF_SMALL_CHECKS);
}

static gboolean
gimp3_mask_intersect (gint           id,
                GeglRectangle *area)
{
  return gimp_drawable_mask_intersect (gimp3_drawable_of (id), &area->x, &area->y, &area->width, &area->height);
}

static gint
gimp3_new_layer (gint         image_id,
           gint         like_id,
           gint         above,
           const gchar *name)
{
  GimpImage     *image = gimp_image_get_by_id (image_id);
  GimpDrawable  *like  = gimp3_drawable_of (like_id);
  GimpParasite  *mark  = gimp_parasite_new (NS_RESULT_PARASITE, GIMP_PARASITE_PERSISTENT, 1, "1");
  GimpLayer     *layer = gimp_layer_new (image, name, gimp_drawable_get_width (like),
                                         gimp_drawable_get_height (like), gimp_drawable_type (like), 100.0,
                                         GIMP_LAYER_MODE_NORMAL);
  gint           x, y;

  /* the mark before the layer is in the image: attached later, GIMP
   * pushes a "Can't undo Attach Parasite to Item" step into the group,
   * and every Undo of the run pops that message */
  gimp_item_attach_parasite (GIMP_ITEM (layer), mark);
  gimp_parasite_free (mark);
  gimp_image_insert_layer (image, layer, GIMP_LAYER (gimp_item_get_parent (GIMP_ITEM (like))),
                           gimp_image_get_item_position (image, gimp_item_get_by_id (above)));
  gimp_drawable_get_offsets (like, &x, &y);
  gimp_layer_set_offsets (layer, x, y);
  return gimp_item_get_id (GIMP_ITEM (layer));
}

static gint
gimp3_add_mask (gint id)
{
  GimpLayer     *layer = GIMP_LAYER (gimp_item_get_by_id (id));
  GimpLayerMask *mask  = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);

  gimp_layer_add_mask (layer, mask);
  return gimp_item_get_id (GIMP_ITEM (mask));
}

static void
gimp3_update (gint id)
{
  GimpDrawable *d = gimp3_drawable_of (id);

  gimp_drawable_update (d, 0, 0, gimp_drawable_get_width (d), gimp_drawable_get_height (d));
}

static void
gimp3_set_visible (gint     id,
             gboolean visible)
{
  gimp_item_set_visible (gimp_item_get_by_id (id), visible);
}

static void
gimp3_select_layer (gint image,
              gint layer)
{
  const GimpLayer *selected[2] = { gimp_layer_get_by_id (layer), NULL };

  gimp_image_set_selected_layers (gimp_image_get_by_id (image), selected);
}

static void
gimp3_undo_group (gint     image,
            gboolean start)
{
  if (start)
    gimp_image_undo_group_start (gimp_image_get_by_id (image));
  else
    gimp_image_undo_group_end (gimp_image_get_by_id (image));
}

const NsHostOps gimp3_ops =
{
  gimp3_item_info, gimp3_item_name, gimp3_image_info, gimp3_children, gimp3_channels,
  gimp3_layer_buffer, gimp3_layer_thumbnail, gimp3_mask_intersect, gimp3_new_layer, gimp3_add_mask,
  gimp3_update, gimp3_set_visible, gimp3_select_layer, gimp3_undo_group
};

/* ---- dialog ---- */

static gboolean
gimp3_show_dialog (GimpProcedure       *procedure,
             GimpProcedureConfig *config,
             const NsLayerList   *layers,
             NsRestyleParams     *params,
             gint                *content,
             gint                *styles,
             gint                *gimp3_channels,
             struct ns_context  **ctx)
{
  Sync          sync = { config, NULL, FALSE };
  NsDialogHost  host = { gimp3_layer_buffer, gimp3_layer_thumbnail, params_to_config, &sync };
  GtkWidget    *dialog;
  gboolean      ok;

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Neural Style"));
  sync.dialog = ns_dialog_new (dialog, &host, layers, params, content, styles, gimp3_channels, ctx);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &sync);

  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handlers_disconnect_by_func (config, config_changed, &sync);
  ns_dialog_free (sync.dialog);
  gtk_widget_destroy (dialog);
  return ok;
}

/* ---- run ---- */

/* The ID of the config's layer or channel argument `name` (-1 = none). */
static gint
id_in_config (GimpProcedureConfig *config,
              const gchar         *name)
{
  GimpItem *item = NULL;
  gint      id;

  g_object_get (config, name, &item, NULL);
  id = item ? gimp_item_get_id (item) : -1;
  g_clear_object (&item);
  return id;
}

/* The config's (or with `last`, the last run's) paintings and region
 * channels into c. */
static void
items_from_config (GimpProcedureConfig *config,
                   gboolean             last,
                   NsHostChoice        *c)
{
  gint k;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gchar *s  = last ? g_strdup_printf ("last-style-%d", k + 1)
                       : k ? g_strdup_printf ("style-layer-%d", k + 1) : g_strdup ("style-layer");
      gchar *ch = g_strdup_printf (last ? "last-channel-%d" : "region-channel-%d", k + 1);

      if (! last)
        c->styles[k] = id_in_config (config, s), c->channels[k] = id_in_config (config, ch);
      else if (k > 0)
        g_object_get (config, s, &c->styles[k], ch, &c->channels[k], NULL);
      else
        g_object_get (config, "last-content", &c->content, "last-style", &c->styles[0], ch, &c->channels[0],
                      NULL);
      g_free (s);
      g_free (ch);
    }
}

/* c's photo, paintings and channels into the config, and as the last run's. */
static void
items_to_config (GimpProcedureConfig *config,
                 const NsHostChoice  *c)
{
  gint k;

  g_object_set (config, "style-layer", gimp_layer_get_by_id (c->styles[0]),
                "last-content", c->content, "last-style", c->styles[0], NULL);
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gchar *s  = g_strdup_printf ("style-layer-%d", k + 1);
      gchar *ls = g_strdup_printf ("last-style-%d", k + 1);
      gchar *ch = g_strdup_printf ("region-channel-%d", k + 1);
      gchar *lc = g_strdup_printf ("last-channel-%d", k + 1);

      if (k > 0)
        g_object_set (config, s, c->styles[k] == -1 ? NULL : gimp_layer_get_by_id (c->styles[k]),
                      ls, c->styles[k], NULL);
      g_object_set (config, ch, c->channels[k] == -1 ? NULL : gimp_channel_get_by_id (c->channels[k]),
                    lc, c->channels[k], NULL);
      g_free (s);
      g_free (ls);
      g_free (ch);
      g_free (lc);
    }
}

/* Interactive (with the dialog) or with the last values (Filters > Repeat,
 * maybe on another image): the pair guessed from the selected drawables
 * and the last run's, then c and the config hold the photo and the
 * paintings.  FALSE when there is none or the dialog was cancelled. */
static gboolean
choose_pair (GimpProcedure        *procedure,
             GimpProcedureConfig  *config,
             GimpRunMode           run_mode,
             GimpImage            *image,
             GimpDrawable        **drawables,
             NsHostChoice         *c,
             struct ns_context   **ctx)
{
  NsLayerList layers;
  GArray     *selected = g_array_new (FALSE, FALSE, sizeof (gint));
  gboolean    ok;
  gint        i;

  for (i = 0; drawables && drawables[i]; i++)
    {
      gint id = ns_host_photo_of (&gimp3_ops, gimp_item_get_id (GIMP_ITEM (drawables[i])));

      if (id != -1)
        g_array_append_val (selected, id);
    }
  items_from_config (config, TRUE, c);
  c->params = params_from_config (config);
  ok = ns_host_guess (&gimp3_ops, gimp_image_get_id (image), (gint *) selected->data, selected->len, c,
                      &layers);
  ok = ok && (run_mode != GIMP_RUN_INTERACTIVE ||
              gimp3_show_dialog (procedure, config, &layers, &c->params, &c->content, c->styles, c->channels, ctx));
  if (ok)
    items_to_config (config, c);
  ns_layer_list_clear (&layers);
  g_array_free (selected, TRUE);
  return ok;
}

static GimpValueArray *
neural_style_run (GimpProcedure        *procedure,
                  GimpRunMode           run_mode,
                  GimpImage            *image,
                  GimpDrawable        **drawables,
                  GimpProcedureConfig  *config,
                  gpointer              run_data)
{
  NsHostChoice       c     = ns_host_choice_new ();
  GError            *error = NULL;
  struct ns_context *ctx   = NULL;
  gint               layer, n = 0;

  gegl_init (NULL, NULL);

  while (drawables && drawables[n])
    n++;
  if (run_mode != GIMP_RUN_NONINTERACTIVE &&
      ! choose_pair (procedure, config, run_mode, image, drawables, &c, &ctx))
    {
      ns_context_free (ctx);
      return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }
  if (run_mode == GIMP_RUN_NONINTERACTIVE)
    c.content = n == 1 ? gimp_item_get_id (GIMP_ITEM (drawables[0])) : -1;
  c.params = params_from_config (config);
  items_from_config (config, FALSE, &c);

  layer = ns_host_run (&gimp3_ops, gimp_image_get_id (image), &c, &ctx, &error);
  ns_context_free (ctx);
  return ns_gimp3_return (procedure, run_mode, layer, error);
}

GimpValueArray *
ns_gimp3_return (GimpProcedure *procedure,
                 GimpRunMode    run_mode,
                 gint           layer,
                 GError        *error)
{
  GimpValueArray *values;

  if (layer == -1)
    return gimp_procedure_new_return_values (procedure, ns_host_status_of (error), error);
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, gimp_layer_get_by_id (layer));
  return values;
}
