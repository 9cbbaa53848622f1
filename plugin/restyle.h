/* restyle.h - what the GIMP 2.10 and 3.0 plug-ins share, above the GIMP API.
 *
 * Everything here works on GeglBuffers: reading the content and style
 * layers, running the engine, scaling the result back to the layer's size,
 * blending it through the selection and writing the new layer's pixels.
 */
#ifndef __NS_RESTYLE_H__
#define __NS_RESTYLE_H__

#include <gegl.h>
#include <gtk/gtk.h>

struct ns_context;

#define PLUG_IN_PROC    "plug-in-neural-style"
#define PLUG_IN_BINARY  "neural-style"
#define PLUG_IN_ROLE    "gimp-neural-style"

G_BEGIN_DECLS

typedef enum
{
  NS_OPTIMIZER_CHOICE_LBFGS = 0,
  NS_OPTIMIZER_CHOICE_ADAM  = 1
} NsOptimizerChoice;

typedef enum
{
  NS_INIT_CHOICE_CONTENT = 0,
  NS_INIT_CHOICE_NOISE   = 1
} NsInitChoice;

typedef enum
{
  NS_DEVICE_CHOICE_AUTO = 0,
  NS_DEVICE_CHOICE_CPU  = 1,
  NS_DEVICE_CHOICE_GPU  = 2
} NsDeviceChoice;

typedef struct
{
  gint     iterations;
  gint     size;            /* longest side to optimise at; 0 = the layer's */
  gdouble  content_weight;
  gdouble  style_weight;
  gdouble  tv_weight;
  gint     optimizer;       /* NsOptimizerChoice */
  gint     init;            /* NsInitChoice */
  gboolean preserve_colors;
  gdouble  style_scale;
  gint     seed;
  gint     device;          /* NsDeviceChoice */
} NsRestyleParams;

#define NS_RESTYLE_ERROR (ns_restyle_error_quark ())

typedef enum
{
  NS_RESTYLE_ERROR_INVALID,    /* a calling error: bad arguments */
  NS_RESTYLE_ERROR_WEIGHTS,    /* weights missing or unusable */
  NS_RESTYLE_ERROR_MEMORY,
  NS_RESTYLE_ERROR_CANCELLED,
  NS_RESTYLE_ERROR_FAILED
} NsRestyleError;

/* Return FALSE to cancel. */
typedef gboolean (* NsProgressFunc) (gdouble      fraction,
                                     const gchar *text,
                                     gpointer     user_data);

GQuark    ns_restyle_error_quark   (void);
void      ns_restyle_init_i18n     (void);
NsRestyleParams ns_restyle_defaults (void);

/* Checks the arguments; a failure is a calling error. */
gboolean  ns_restyle_check_params  (const NsRestyleParams *params,
                                    GError               **error);

/* What the version-specific code learns about the layers it was given. */
typedef struct
{
  gboolean content_is_layer;  /* one layer of this image is the content */
  gboolean indexed;           /* the image is indexed */
  gboolean style_is_layer;    /* a style layer was given */
  gboolean style_in_image;    /* ... and it belongs to the same image */
  gboolean same_layer;        /* content and style are one layer */
  gint     content_width;
  gint     content_height;
  gint     style_width;
  gint     style_height;
} NsLayerFacts;

/* A calling error (translated) when the layers cannot be used. */
gboolean  ns_restyle_check_layers  (const NsLayerFacts   *facts,
                                    GError              **error);

/* The new layer's name, "Neural Style: <style layer name>" (new string). */
gchar   * ns_restyle_layer_name    (const gchar          *style_name);

/* Opens the engine on the installed weights (NULL and a translated error
 * saying how to install them when they are missing or unusable). */
struct ns_context * ns_restyle_open (gint     device,
                                     GError **error);

/* Restyles `area` of `content` (layer coordinates) after `style` and returns
 * the new layer's pixels: a buffer of the content's extent in R'G'B'A float
 * holding the content outside the area and the restyled pixels inside,
 * blended through `mask` (the selection, read at area + mask_offset; NULL =
 * no selection), with the content's alpha.  NULL and an error on failure
 * (NS_RESTYLE_ERROR_CANCELLED when progress returned FALSE). */
GeglBuffer * ns_restyle             (struct ns_context     *ctx,
                                     GeglBuffer            *content,
                                     const GeglRectangle   *area,
                                     GeglBuffer            *mask,
                                     gint                   mask_offset_x,
                                     gint                   mask_offset_y,
                                     GeglBuffer            *style,
                                     const NsRestyleParams *params,
                                     NsProgressFunc         progress,
                                     gpointer               progress_data,
                                     GError               **error);

/* "About 0.8 GB of memory and 6 min on the CPU" for the dialog.  ctx may be
 * NULL (weights missing): then a sentence saying how to install them. */
gchar      * ns_restyle_estimate    (struct ns_context     *ctx,
                                     const NsRestyleParams *params,
                                     gint                   content_width,
                                     gint                   content_height,
                                     gint                   style_width,
                                     gint                   style_height);

/* For the tests of the dialogs: when NS_PLUGIN_TEST_RESPONSE is "ok" or
 * "cancel", answers the dialog that way once it has been shown a moment. */
void         ns_restyle_test_response (GtkDialog          *dialog);

G_END_DECLS

#endif /* __NS_RESTYLE_H__ */
