/* gimp3.c - the GIMP 3.0 plug-in: Filters > Artistic > Neural Style...
 *
 * PDB: plug-in-neural-style (run-mode, image, drawables, style-layer,
 * iterations, size, content-weight, style-weight, tv-weight, optimizer,
 * init, preserve-colors, style-scale, seed, device, precision) -> new-layer,
 * where optimizer, init, device and precision are GimpChoice values
 * ("lbfgs"/"adam", "content"/"noise", "auto"/"cpu"/"gpu",
 * "fp32"/"tf32"/"bf16").
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "dialog.h"
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
  gchar *dir  = ns_host_plugin_dir ();
  gchar *help = g_build_filename (dir, "help", NULL);
  GFile *uri  = g_file_new_for_path (help);

  gimp_plug_in_set_help_domain (plug_in, NS_HELP_DOMAIN, uri);
  g_object_unref (uri);
  g_free (help);
  g_free (dir);
  return g_list_append (NULL, g_strdup (PLUG_IN_PROC));
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

/* One setting argument of the table (s), or the device (NULL); the
 * default is def's. */
static void
add_setting (GimpProcedure           *procedure,
             const struct ns_setting *s,
             const NsRestyleParams   *def)
{
  const gchar *const *labels;
  const gchar *const *nicks;
  GParamFlags         rw = G_PARAM_READWRITE;
  gdouble             v  = s ? ns_restyle_get (def, s) : def->device;

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
  NsRestyleParams def = ns_restyle_defaults ();
  gint            n, i, k;
  const struct ns_setting *t = ns_settings (&n);

  gimp_procedure_add_layer_argument (procedure, "style-layer", _("Painting"),
                                     _("The painting: another layer of the same image"),
                                     TRUE, G_PARAM_READWRITE);
  for (k = 1; k <= ns_restyle_n_args (); k++)
    add_setting (procedure, ns_restyle_arg (k), &def);
  add_paintings (procedure);
  /* settings of this machine, not of a call: kept with the dialog's
     values, so that Script-Fu calls keep their arguments */
  for (i = 0; i < n; i++)
    if (t[i].arg == NS_SETTING_ARG_AUX)
      add_setting (procedure, &t[i], &def);
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

/* One setting from the config into p (NULL s: the device). */
static void
setting_from_config (GimpProcedureConfig     *config,
                     const struct ns_setting *s,
                     NsRestyleParams         *p)
{
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
  gint            n, i, k;
  const struct ns_setting *t = ns_settings (&n);

  for (k = 1; k <= ns_restyle_n_args (); k++)
    setting_from_config (config, ns_restyle_arg (k), &p);
  for (i = 0; i < n; i++)
    if (t[i].arg == NS_SETTING_ARG_AUX)
      setting_from_config (config, &t[i], &p);
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

/* One setting of p into the config, within the argument's range. */
static void
setting_to_config (GimpProcedureConfig     *config,
                   const struct ns_setting *s,
                   const NsRestyleParams   *p)
{
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
  Sync *s = data;
  gint  n, i, k;
  const struct ns_setting *t = ns_settings (&n);

  s->pushing = TRUE;
  for (k = 1; k <= ns_restyle_n_args (); k++)
    setting_to_config (s->config, ns_restyle_arg (k), p);
  for (i = 0; i < n; i++)
    if (t[i].arg == NS_SETTING_ARG_AUX)
      setting_to_config (s->config, &t[i], p);
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

/* ---- the host: GIMP 3's layers by ID ---- */

static GeglBuffer *
layer_buffer (gint id)
{
  return gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_item_get_by_id (id)));
}

static GdkPixbuf *
layer_thumbnail (gint id,
                 gint size)
{
  return gimp_drawable_get_thumbnail (GIMP_DRAWABLE (gimp_item_get_by_id (id)), size, size,
                                      GIMP_PIXBUF_SMALL_CHECKS);
}

static void
add_layers (NsLayerList  *list,
            GimpItem    **items,
            NsLayer      *parent)
{
  gint i;

  for (i = 0; items && items[i]; i++)
    {
      NsLayer       l    = { 0, };
      GimpParasite *mark = gimp_item_get_parasite (items[i], NS_RESULT_PARASITE);

      l.id      = gimp_item_get_id (items[i]);
      l.name    = gimp_item_get_name (items[i]);
      l.width   = gimp_drawable_get_width (GIMP_DRAWABLE (items[i]));
      l.height  = gimp_drawable_get_height (GIMP_DRAWABLE (items[i]));
      gimp_drawable_get_offsets (GIMP_DRAWABLE (items[i]), &l.x, &l.y);
      l.visible = gimp_item_get_visible (items[i]);
      l.group   = gimp_item_is_group (items[i]);
      l.result  = mark != NULL;
      l.has_mask = ! l.group && gimp_layer_get_mask (GIMP_LAYER (items[i])) != NULL;
      ns_layer_place (&l, parent, i);
      ns_layer_list_add (list, &l);
      gimp_parasite_free (mark);

      if (l.group && l.depth + 1 < NS_LAYER_MAX_DEPTH)
        {
          GimpItem **children = gimp_item_get_children (items[i]);

          add_layers (list, children, &l);
          g_free (children);
        }
      g_free (l.name);
    }
}

static void
list_layers (GimpImage   *image,
             NsLayerList *list)
{
  GimpLayer   **layers   = gimp_image_get_layers (image);
  GimpChannel **channels = gimp_image_get_channels (image);
  GFile        *file     = gimp_image_get_imported_file (image);
  gint          i;

  if (! file)
    file = gimp_image_get_file (image);
  memset (list, 0, sizeof *list);
  add_layers (list, (GimpItem **) layers, NULL);
  for (i = 0; channels && channels[i]; i++)
    {
      gchar *name = gimp_item_get_name (GIMP_ITEM (channels[i]));

      ns_layer_list_add_channel (list, gimp_item_get_id (GIMP_ITEM (channels[i])), name);
      g_free (name);
    }
  g_free (channels);
  list->image_name = file ? g_file_get_basename (file) : NULL;
  list->width      = gimp_image_get_width (image);
  list->height     = gimp_image_get_height (image);
  g_clear_object (&file);
  g_free (layers);
}

/* ---- dialog ---- */

static gboolean
show_dialog (GimpProcedure       *procedure,
             GimpProcedureConfig *config,
             const NsLayerList   *layers,
             NsRestyleParams     *params,
             gint                *content,
             gint                *styles,
             gint                *channels,
             struct ns_context  **ctx)
{
  Sync          sync = { config, NULL, FALSE };
  NsDialogHost  host = { layer_buffer, layer_thumbnail, params_to_config, &sync };
  GtkWidget    *dialog;
  gboolean      ok;

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Neural Style"));
  sync.dialog = ns_dialog_new (dialog, &host, layers, params, content, styles, channels, ctx);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &sync);

  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handlers_disconnect_by_func (config, config_changed, &sync);
  ns_dialog_free (sync.dialog);
  gtk_widget_destroy (dialog);
  return ok;
}

/* ---- run ---- */

/* The layers and channels a run uses. */
typedef struct
{
  GimpDrawable *content;
  GimpLayer    *styles[NS_MAX_PAINTINGS];    /* new references; NULL = none */
  GimpChannel  *channels[NS_MAX_PAINTINGS];  /* each painting's region channel */
} Choice;

static void
choice_clear (Choice *c)
{
  gint k;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      g_clear_object (&c->styles[k]);
      g_clear_object (&c->channels[k]);
    }
}

/* The result's layer, in view, in one undo step: above the photo (and the
 * earlier results over it), with a copy of the photo's mask and the mark,
 * and the paintings hidden where they would hide it. */
static GimpLayer *
add_result (GimpImage             *image,
            const Choice          *c,
            const NsRestyleParams *params,
            GeglBuffer            *pixels)
{
  GimpDrawable  *content = c->content;
  gchar         *name   = ns_restyle_layer_name (gimp_item_get_name (GIMP_ITEM (c->styles[0])));
  GimpLayerMask *mask   = gimp_layer_get_mask (GIMP_LAYER (content));
  GimpParasite  *mark   = gimp_parasite_new (NS_RESULT_PARASITE, GIMP_PARASITE_PERSISTENT, 1, "1");
  NsLayerList    layers;
  GimpItem      *anchor;
  GimpLayer     *layer;
  GeglBuffer    *buf;
  const GimpLayer *selected[2] = { NULL, NULL };
  gint           ox, oy, k;

  list_layers (image, &layers);
  anchor = gimp_item_get_by_id (ns_layers_result_anchor (&layers, gimp_item_get_id (GIMP_ITEM (content))));
  gimp_image_undo_group_start (image);
  gimp_drawable_get_offsets (content, &ox, &oy);
  layer = gimp_layer_new (image, name,
                          gimp_drawable_get_width (content), gimp_drawable_get_height (content),
                          gimp_drawable_type (content), 100.0, GIMP_LAYER_MODE_NORMAL);
  /* the mark before the layer is in the image: attached later, GIMP
   * pushes a "Can't undo Attach Parasite to Item" step into the group,
   * and every Undo of the run pops that message */
  gimp_item_attach_parasite (GIMP_ITEM (layer), mark);
  gimp_image_insert_layer (image, layer, GIMP_LAYER (gimp_item_get_parent (GIMP_ITEM (content))),
                           gimp_image_get_item_position (image, anchor));
  gimp_layer_set_offsets (layer, ox, oy);
  buf = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  gegl_buffer_copy (pixels, NULL, GEGL_ABYSS_NONE, buf, NULL);
  g_object_unref (buf);
  gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0,
                        gimp_drawable_get_width (GIMP_DRAWABLE (layer)),
                        gimp_drawable_get_height (GIMP_DRAWABLE (layer)));

  if (mask)
    {
      GimpLayerMask *copy = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);
      GeglBuffer    *from = gimp_drawable_get_buffer (GIMP_DRAWABLE (mask));
      GeglBuffer    *to;

      gimp_layer_add_mask (layer, copy);
      to = gimp_drawable_get_buffer (GIMP_DRAWABLE (copy));
      gegl_buffer_copy (from, NULL, GEGL_ABYSS_NONE, to, NULL);
      g_object_unref (from);
      g_object_unref (to);
      gimp_drawable_update (GIMP_DRAWABLE (copy), 0, 0,
                            gimp_drawable_get_width (GIMP_DRAWABLE (copy)),
                            gimp_drawable_get_height (GIMP_DRAWABLE (copy)));
    }
  for (k = 0; k < params->paintings; k++)
    if (c->styles[k] &&
        ns_layers_style_hides (&layers, gimp_item_get_id (anchor), gimp_item_get_id (GIMP_ITEM (c->styles[k]))))
      gimp_item_set_visible (GIMP_ITEM (c->styles[k]), FALSE);
  selected[0] = layer;
  gimp_image_set_selected_layers (image, selected);
  gimp_image_undo_group_end (image);

  ns_layer_list_clear (&layers);
  gimp_parasite_free (mark);
  g_free (name);
  return layer;
}

/* Painting k's region: its drawable and where the photo's origin falls in
 * it (the photo at ox, oy in the image). */
static void
region_of (GimpImage             *image,
           const Choice          *c,
           const NsRestyleParams *params,
           gint                   k,
           gint                   ox,
           gint                   oy,
           NsPainting            *p)
{
  GimpDrawable *d  = NULL;
  gint          dx = 0, dy = 0;

  switch (params->region[k])
    {
    case NS_REGION_CHOICE_SELECTION:
      d = GIMP_DRAWABLE (gimp_image_get_selection (image));
      break;
    case NS_REGION_CHOICE_LAYER_MASK:
      d = GIMP_DRAWABLE (gimp_layer_get_mask (c->styles[k]));
      gimp_drawable_get_offsets (GIMP_DRAWABLE (c->styles[k]), &dx, &dy);
      break;
    case NS_REGION_CHOICE_CHANNEL:
      d = GIMP_DRAWABLE (c->channels[k]);
      break;
    default:
      return;
    }
  p->region   = gimp_drawable_get_buffer (d);
  p->region_x = ox - dx;
  p->region_y = oy - dy;
}

static GimpLayer *
restyle (GimpImage             *image,
         const Choice          *c,
         const NsRestyleParams *params,
         struct ns_context     *ctx,
         GError               **error)
{
  NsHostRun  r       = { 0, };
  GimpLayer *layer   = NULL;
  gboolean   by_sel  = ns_restyle_selection_is_region (params);
  gboolean   touches;
  gint       k;

  /* the selection as a painting's region: the whole layer is restyled */
  if (by_sel)
    {
      r.area  = (GeglRectangle) { 0, 0, gimp_drawable_get_width (c->content),
                                  gimp_drawable_get_height (c->content) };
      touches = TRUE;
    }
  else
    {
      touches = gimp_drawable_mask_intersect (c->content, &r.area.x, &r.area.y,
                                              &r.area.width, &r.area.height);
    }

  if (touches)
    {
      gimp_drawable_get_offsets (c->content, &r.offset_x, &r.offset_y);
      r.content = gimp_drawable_get_buffer (c->content);
      for (k = 0; k < params->paintings; k++)
        {
          r.paintings[k].buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (c->styles[k]));
          region_of (image, c, params, k, r.offset_x, r.offset_y, &r.paintings[k]);
        }
      if (! by_sel && ! gimp_selection_is_empty (image))
        r.mask = gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_image_get_selection (image)));
    }
  if (ns_host_restyle (&r, touches, ctx, params, error))
    layer = add_result (image, c, params, r.result);
  ns_host_run_clear (&r);
  return layer;
}

/* The photo a selected drawable stands for: a mask for its layer, a channel
 * for none. */
static gint
photo_of (GimpDrawable *drawable)
{
  if (GIMP_IS_LAYER_MASK (drawable))
    return gimp_item_get_id (GIMP_ITEM (gimp_layer_from_mask (GIMP_LAYER_MASK (drawable))));
  return GIMP_IS_LAYER (drawable) ? gimp_item_get_id (GIMP_ITEM (drawable)) : -1;
}

/* The photo and the painting for this image, guessed from the selected
 * drawables and the last run's pair, in *content and the config's
 * style-layer.  FALSE, after a message saying how to add a painting, when
 * there is none.  layers is filled for the dialog. */
static gboolean
guess_pair (GimpProcedureConfig  *config,
            GimpImage            *image,
            GimpDrawable        **drawables,
            NsLayerList          *layers,
            gint                 *content,
            gint                 *style)
{
  GArray *selected = g_array_new (FALSE, FALSE, sizeof (gint));
  gint    last_content, last_style, i;

  g_object_get (config, "last-content", &last_content, "last-style", &last_style, NULL);
  for (i = 0; drawables && drawables[i]; i++)
    {
      gint id = photo_of (drawables[i]);

      if (id != -1)
        g_array_append_val (selected, id);
    }
  list_layers (image, layers);
  ns_layers_guess (layers, (gint *) selected->data, selected->len, last_content, last_style,
                   content, style);
  g_array_free (selected, TRUE);
  if (*style != -1)
    return TRUE;
  g_message (_("Neural Style restyles a photo after a painting, and needs both as layers of "
               "one image. Add the painting with File > Open as Layers..., then choose "
               "Filters > Artistic > Neural Style... again."));
  return FALSE;
}

/* The last run's second and third paintings and region channels, as IDs
 * of this image (-1 where they are not in it). */
static void
last_more (GimpProcedureConfig *config,
           const NsLayerList   *layers,
           gint                *styles,
           gint                *channels)
{
  gint k, i;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gchar *s = g_strdup_printf ("last-style-%d", k + 1);
      gchar *c = g_strdup_printf ("last-channel-%d", k + 1);
      gint   ch;

      if (k > 0)
        {
          g_object_get (config, s, &styles[k], NULL);
          if (! ns_layer_list_find (layers, styles[k]))
            styles[k] = -1;
        }
      g_object_get (config, c, &ch, NULL);
      channels[k] = -1;
      for (i = 0; i < layers->n_channels; i++)
        if (layers->channel_ids[i] == ch)
          channels[k] = ch;
      g_free (s);
      g_free (c);
    }
}

/* The dialog's paintings and channels into the config. */
static void
more_to_config (GimpProcedureConfig *config,
                const gint          *styles,
                const gint          *channels)
{
  gint k;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gchar *s  = g_strdup_printf ("style-layer-%d", k + 1);
      gchar *ls = g_strdup_printf ("last-style-%d", k + 1);
      gchar *c  = g_strdup_printf ("region-channel-%d", k + 1);
      gchar *lc = g_strdup_printf ("last-channel-%d", k + 1);

      if (k > 0)
        g_object_set (config, s, styles[k] == -1 ? NULL : gimp_layer_get_by_id (styles[k]),
                      ls, styles[k], NULL);
      g_object_set (config, c, channels[k] == -1 ? NULL : gimp_channel_get_by_id (channels[k]),
                    lc, channels[k], NULL);
      g_free (s);
      g_free (ls);
      g_free (c);
      g_free (lc);
    }
}

/* Interactive (with the dialog) or with the last values (Filters > Repeat,
 * maybe on another image): the pair, then *content and the config hold the
 * photo and the paintings.  FALSE when there is none or the dialog was
 * cancelled. */
static gboolean
choose_pair (GimpProcedure        *procedure,
             GimpProcedureConfig  *config,
             GimpRunMode           run_mode,
             GimpImage            *image,
             GimpDrawable        **drawables,
             GimpDrawable        **content,
             struct ns_context   **ctx)
{
  NsLayerList     layers;
  NsRestyleParams params = params_from_config (config);
  gint            c;
  gint            styles[NS_MAX_PAINTINGS]   = { -1, -1, -1 };
  gint            channels[NS_MAX_PAINTINGS] = { -1, -1, -1 };
  gboolean        ok;

  ok = guess_pair (config, image, drawables, &layers, &c, &styles[0]);
  if (ok)
    last_more (config, &layers, styles, channels);
  ok = ok && (run_mode != GIMP_RUN_INTERACTIVE ||
              show_dialog (procedure, config, &layers, &params, &c, styles, channels, ctx));
  if (ok)
    {
      g_object_set (config, "style-layer", gimp_layer_get_by_id (styles[0]),
                    "last-content", c, "last-style", styles[0], NULL);
      more_to_config (config, styles, channels);
      *content = GIMP_DRAWABLE (gimp_item_get_by_id (c));
    }
  ns_layer_list_clear (&layers);
  return ok;
}

/* What check_layers needs of painting k. */
static void
painting_facts (GimpImage             *image,
                const Choice          *c,
                const NsRestyleParams *params,
                gint                   k,
                NsPaintingFacts       *f)
{
  GimpLayer *s = c->styles[k];

  f->is_layer   = s != NULL;
  f->in_image   = s && gimp_item_get_image (GIMP_ITEM (s)) == image;
  f->is_content = s && GIMP_DRAWABLE (s) == c->content;
  f->empty      = s && (gimp_drawable_get_width (GIMP_DRAWABLE (s)) < 1 ||
                        gimp_drawable_get_height (GIMP_DRAWABLE (s)) < 1);
  f->region     = params->region[k];
  switch (f->region)
    {
    case NS_REGION_CHOICE_SELECTION:
      f->region_usable = ! gimp_selection_is_empty (image);
      break;
    case NS_REGION_CHOICE_LAYER_MASK:
      f->region_usable = s && gimp_layer_get_mask (s) != NULL;
      break;
    case NS_REGION_CHOICE_CHANNEL:
      f->region_usable = c->channels[k] && gimp_item_get_image (GIMP_ITEM (c->channels[k])) == image;
      break;
    default:
      f->region_usable = TRUE;
    }
}

static gboolean
check_layers (GimpImage             *image,
              const Choice          *c,
              const NsRestyleParams *params,
              GError               **error)
{
  NsLayerFacts  f       = { 0, };
  GimpDrawable *content = c->content;
  GimpLayer    *style   = c->styles[0];
  gint          k;

  f.content_is_layer = content && GIMP_IS_LAYER (content) &&
                       gimp_item_get_image (GIMP_ITEM (content)) == image;
  f.indexed          = gimp_image_get_base_type (image) == GIMP_INDEXED;
  f.style_is_layer   = style != NULL;
  f.style_in_image   = style && gimp_item_get_image (GIMP_ITEM (style)) == image;
  f.same_layer       = style && GIMP_DRAWABLE (style) == content;
  if (f.content_is_layer)
    {
      f.content_width  = gimp_drawable_get_width (content);
      f.content_height = gimp_drawable_get_height (content);
    }
  if (style)
    {
      f.style_width  = gimp_drawable_get_width (GIMP_DRAWABLE (style));
      f.style_height = gimp_drawable_get_height (GIMP_DRAWABLE (style));
      painting_facts (image, c, params, 0, &f.first);
    }
  f.n_more = params->paintings - 1;
  for (k = 1; k < params->paintings; k++)
    painting_facts (image, c, params, k, &f.more[k - 1]);
  return ns_restyle_check_layers (&f, error);
}

/* The paintings and region channels the config names. */
static void
choice_from_config (GimpProcedureConfig *config,
                    Choice              *c)
{
  gint k;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gchar *s  = k ? g_strdup_printf ("style-layer-%d", k + 1) : g_strdup ("style-layer");
      gchar *ch = g_strdup_printf ("region-channel-%d", k + 1);

      g_object_get (config, s, &c->styles[k], ch, &c->channels[k], NULL);
      g_free (s);
      g_free (ch);
    }
}

static GimpValueArray *
neural_style_run (GimpProcedure        *procedure,
                  GimpRunMode           run_mode,
                  GimpImage            *image,
                  GimpDrawable        **drawables,
                  GimpProcedureConfig  *config,
                  gpointer              run_data)
{
  Choice             c       = { NULL, };
  GimpLayer         *layer   = NULL;
  GError            *error   = NULL;
  struct ns_context *ctx     = NULL;
  GimpValueArray    *values;
  NsRestyleParams    params;
  gint               n       = 0;

  gegl_init (NULL, NULL);

  while (drawables && drawables[n])
    n++;
  if (n == 1)
    c.content = drawables[0];

  if (run_mode != GIMP_RUN_NONINTERACTIVE &&
      ! choose_pair (procedure, config, run_mode, image, drawables, &c.content, &ctx))
    {
      ns_context_free (ctx);
      return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }

  params = params_from_config (config);
  choice_from_config (config, &c);

  if (ns_restyle_check_params (&params, &error) &&
      check_layers (image, &c, &params, &error) &&
      (ctx || (ctx = ns_restyle_open (params.device, &error))))
    layer = restyle (image, &c, &params, ctx, &error);

  ns_context_free (ctx);
  choice_clear (&c);

  if (! layer)
    return gimp_procedure_new_return_values (procedure, ns_host_status_of (error), error);

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, layer);
  return values;
}
