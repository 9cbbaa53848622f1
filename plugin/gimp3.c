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

/* the GimpChoice nicks, in the order of the Ns*Choice enums */
static const gchar *optimizer_nicks[] = { "lbfgs", "adam" };
static const gchar *init_nicks[]      = { "content", "noise" };
static const gchar *device_nicks[]    = { "auto", "cpu", "gpu" };
static const gchar *precision_nicks[] = { "fp32", "tf32", "bf16" };

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

/* The procedure's arguments, in the order Script-Fu passes them. */
static void
add_arguments (GimpProcedure *procedure)
{
  NsRestyleParams def = ns_restyle_defaults ();

  gimp_procedure_add_layer_argument (procedure, "style-layer", _("Painting"),
                                     _("The painting: another layer of the same image"),
                                     TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "iterations", _("Iterations"),
                                   _("Optimization steps; 100-300 is usually enough"),
                                   0, NS_PARAM_ITERATIONS_MAX, def.iterations, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "size", _("Size"),
                                   _("Longest side in pixels at which to restyle (0 = the layer's "
                                     "own, or the largest that fits in memory); the result is "
                                     "scaled back to the layer"),
                                   0, NS_PARAM_SIZE_MAX, def.size, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "content-weight", _("Content weight"),
                                      _("How strongly the result keeps the photo's shapes"),
                                      0.0, 1e6, def.content_weight, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "style-weight", _("Style weight"),
                                      _("How strongly the result takes the painting's colours "
                                        "and brushwork"),
                                      0.0, 1e9, def.style_weight, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "tv-weight", _("Smoothness"),
                                      _("Total-variation weight: higher values give smoother, "
                                        "less noisy results"),
                                      0.0, 1e6, def.tv_weight, G_PARAM_READWRITE);
  add_choice (procedure, "optimizer", _("Optimizer"), _("The optimization method"),
              gimp_choice_new_with_values ("lbfgs", NS_OPTIMIZER_CHOICE_LBFGS, _("L-BFGS (best quality)"), NULL,
                                           "adam", NS_OPTIMIZER_CHOICE_ADAM, _("Adam"), NULL,
                                           NULL),
              "lbfgs");
  add_choice (procedure, "init", _("Start from"), _("The image the optimization starts from"),
              gimp_choice_new_with_values ("content", NS_INIT_CHOICE_CONTENT, _("The photo"), NULL,
                                           "noise", NS_INIT_CHOICE_NOISE, _("Random noise"), NULL,
                                           NULL),
              "content");
  gimp_procedure_add_boolean_argument (procedure, "preserve-colors", _("Keep the photo's colours"),
                                       _("Take only the painting's brushwork and keep the photo's "
                                         "colours"),
                                       def.preserve_colors, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "style-scale", _("Brush size"),
                                      _("Size of the painting relative to the photo: larger values "
                                        "give larger brush strokes"),
                                      NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX, def.style_scale,
                                      G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "seed", _("Seed"),
                                   _("The random noise's seed"),
                                   0, G_MAXINT, def.seed, G_PARAM_READWRITE);
  add_choice (procedure, "device", _("Compute on"), _("Where to compute"),
              gimp_choice_new_with_values ("auto", NS_DEVICE_CHOICE_AUTO,
                                           _("Automatic (the GPU if one is usable)"), NULL,
                                           "cpu", NS_DEVICE_CHOICE_CPU, _("CPU"), NULL,
                                           "gpu", NS_DEVICE_CHOICE_GPU, _("GPU (NVIDIA, CUDA)"), NULL,
                                           NULL),
              "auto");
  add_choice (procedure, "precision", _("GPU precision"), _("The GPU's arithmetic"),
              gimp_choice_new_with_values ("fp32", NS_PRECISION_CHOICE_FP32, _("Float32 (exact)"), NULL,
                                           "tf32", NS_PRECISION_CHOICE_TF32,
                                           _("TF32 (tensor cores, faster)"), NULL,
                                           "bf16", NS_PRECISION_CHOICE_BF16,
                                           _("BFloat16 (half the memory; Ampere or newer)"), NULL,
                                           NULL),
              "fp32");
  /* a setting of this machine, not of a call: kept with the dialog's
     values, so that Script-Fu calls keep their arguments */
  gimp_procedure_add_double_aux_argument (procedure, "max-memory", _("Memory limit (GB)"),
                                          _("The most memory a run may use; 0 = what is free"),
                                          0.0, NS_MAX_MEMORY_GB, 0.0, G_PARAM_READWRITE);
  /* the last run's photo and painting (GimpConfig cannot store layers) */
  gimp_procedure_add_int_aux_argument (procedure, "last-content", "last-content", "",
                                       -1, G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_int_aux_argument (procedure, "last-style", "last-style", "",
                                       -1, G_MAXINT, -1, G_PARAM_READWRITE);
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

static NsRestyleParams
params_from_config (GimpProcedureConfig *config)
{
  NsRestyleParams p = ns_restyle_defaults ();

  g_object_get (config,
                "iterations",      &p.iterations,
                "size",            &p.size,
                "content-weight",  &p.content_weight,
                "style-weight",    &p.style_weight,
                "tv-weight",       &p.tv_weight,
                "preserve-colors", &p.preserve_colors,
                "style-scale",     &p.style_scale,
                "seed",            &p.seed,
                "max-memory",      &p.max_memory,
                NULL);
  p.optimizer = gimp_procedure_config_get_choice_id (config, "optimizer");
  p.init      = gimp_procedure_config_get_choice_id (config, "init");
  p.device    = gimp_procedure_config_get_choice_id (config, "device");
  p.precision = gimp_procedure_config_get_choice_id (config, "precision");
  return p;
}

static const gchar *
nick (const gchar **nicks,
      gint          n,
      gint          id)
{
  return nicks[CLAMP (id, 0, n - 1)];
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

  s->pushing = TRUE;
  g_object_set (s->config,
                "iterations",      p->iterations,
                "size",            p->size,
                "content-weight",  p->content_weight,
                "style-weight",    p->style_weight,
                "tv-weight",       p->tv_weight,
                "preserve-colors", p->preserve_colors,
                "style-scale",     CLAMP (p->style_scale, NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX),
                "seed",            p->seed,
                "optimizer",       nick (optimizer_nicks, 2, p->optimizer),
                "init",            nick (init_nicks, 2, p->init),
                "device",          nick (device_nicks, 3, p->device),
                "precision",       nick (precision_nicks, 3, p->precision),
                "max-memory",      CLAMP (p->max_memory, 0.0, NS_MAX_MEMORY_GB),
                NULL);
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
  GimpLayer **layers = gimp_image_get_layers (image);
  GFile      *file   = gimp_image_get_imported_file (image);

  if (! file)
    file = gimp_image_get_file (image);
  memset (list, 0, sizeof *list);
  add_layers (list, (GimpItem **) layers, NULL);
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
             gint                *style,
             struct ns_context  **ctx)
{
  Sync          sync = { config, NULL, FALSE };
  NsDialogHost  host = { layer_buffer, layer_thumbnail, params_to_config, &sync };
  GtkWidget    *dialog;
  gboolean      ok;

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Neural Style"));
  sync.dialog = ns_dialog_new (dialog, &host, layers, params, content, style, ctx);
  g_signal_connect (config, "notify", G_CALLBACK (config_changed), &sync);

  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handlers_disconnect_by_func (config, config_changed, &sync);
  ns_dialog_free (sync.dialog);
  gtk_widget_destroy (dialog);
  return ok;
}

/* ---- run ---- */

/* The result's layer, in view, in one undo step: above the photo (and the
 * earlier results over it), with a copy of the photo's mask and the mark,
 * and the painting hidden if it would hide it. */
static GimpLayer *
add_result (GimpImage         *image,
            GimpDrawable      *content,
            GimpLayer         *style,
            GeglBuffer        *pixels)
{
  gchar         *name   = ns_restyle_layer_name (gimp_item_get_name (GIMP_ITEM (style)));
  GimpLayerMask *mask   = gimp_layer_get_mask (GIMP_LAYER (content));
  GimpParasite  *mark   = gimp_parasite_new (NS_RESULT_PARASITE, GIMP_PARASITE_PERSISTENT, 1, "1");
  NsLayerList    layers;
  GimpItem      *anchor;
  GimpLayer     *layer;
  GeglBuffer    *buf;
  const GimpLayer *selected[2] = { NULL, NULL };
  gint           ox, oy;

  list_layers (image, &layers);
  anchor = gimp_item_get_by_id (ns_layers_result_anchor (&layers, gimp_item_get_id (GIMP_ITEM (content))));
  gimp_image_undo_group_start (image);
  gimp_drawable_get_offsets (content, &ox, &oy);
  layer = gimp_layer_new (image, name,
                          gimp_drawable_get_width (content), gimp_drawable_get_height (content),
                          gimp_drawable_type (content), 100.0, GIMP_LAYER_MODE_NORMAL);
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
  gimp_item_attach_parasite (GIMP_ITEM (layer), mark);
  if (ns_layers_style_hides (&layers, gimp_item_get_id (anchor), gimp_item_get_id (GIMP_ITEM (style))))
    gimp_item_set_visible (GIMP_ITEM (style), FALSE);
  selected[0] = layer;
  gimp_image_set_selected_layers (image, selected);
  gimp_image_undo_group_end (image);

  ns_layer_list_clear (&layers);
  gimp_parasite_free (mark);
  g_free (name);
  return layer;
}

static GimpLayer *
restyle (GimpImage             *image,
         GimpDrawable          *content,
         GimpLayer             *style,
         const NsRestyleParams *params,
         struct ns_context     *ctx,
         GError               **error)
{
  NsHostRun    r       = { 0, };
  GimpLayer   *layer   = NULL;
  gboolean     touches = gimp_drawable_mask_intersect (content, &r.area.x, &r.area.y,
                                                       &r.area.width, &r.area.height);

  if (touches)
    {
      gimp_drawable_get_offsets (content, &r.offset_x, &r.offset_y);
      r.content = gimp_drawable_get_buffer (content);
      r.style   = gimp_drawable_get_buffer (GIMP_DRAWABLE (style));
      if (! gimp_selection_is_empty (image))
        r.mask = gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_image_get_selection (image)));
    }
  if (ns_host_restyle (&r, touches, ctx, params, error))
    layer = add_result (image, content, style, r.result);
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

/* Interactive (with the dialog) or with the last values (Filters > Repeat,
 * maybe on another image): the pair, then *content and the config hold the
 * photo and the painting.  FALSE when there is none or the dialog was
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
  gint            c, s;
  gboolean        ok;

  ok = guess_pair (config, image, drawables, &layers, &c, &s) &&
       (run_mode != GIMP_RUN_INTERACTIVE ||
        show_dialog (procedure, config, &layers, &params, &c, &s, ctx));
  if (ok)
    {
      g_object_set (config, "style-layer", gimp_layer_get_by_id (s),
                    "last-content", c, "last-style", s, NULL);
      *content = GIMP_DRAWABLE (gimp_item_get_by_id (c));
    }
  ns_layer_list_clear (&layers);
  return ok;
}

static gboolean
check_layers (GimpImage     *image,
              GimpDrawable  *content,
              GimpLayer     *style,
              GError       **error)
{
  NsLayerFacts f = { 0, };

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
    }
  return ns_restyle_check_layers (&f, error);
}

static GimpValueArray *
neural_style_run (GimpProcedure        *procedure,
                  GimpRunMode           run_mode,
                  GimpImage            *image,
                  GimpDrawable        **drawables,
                  GimpProcedureConfig  *config,
                  gpointer              run_data)
{
  GimpDrawable      *content = NULL;
  GimpLayer         *style   = NULL;
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
    content = drawables[0];

  if (run_mode != GIMP_RUN_NONINTERACTIVE &&
      ! choose_pair (procedure, config, run_mode, image, drawables, &content, &ctx))
    {
      ns_context_free (ctx);
      return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }

  params = params_from_config (config);
  g_object_get (config, "style-layer", &style, NULL);

  if (ns_restyle_check_params (&params, &error) &&
      check_layers (image, content, style, &error) &&
      (ctx || (ctx = ns_restyle_open (params.device, &error))))
    layer = restyle (image, content, style, &params, ctx, &error);

  ns_context_free (ctx);
  g_clear_object (&style);

  if (! layer)
    return gimp_procedure_new_return_values (procedure, ns_host_status_of (error), error);

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, layer);
  return values;
}
