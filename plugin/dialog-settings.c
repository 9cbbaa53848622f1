/* dialog-settings.c - the dialog's rows built from the engine's table of
 * settings (ns_settings): one widget per row, by the row's type, so that a
 * setting added to the table appears in the dialog with no change here.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "dialog-private.h"
#include "fast.h"

/* a spin button's largest number: a wider one would take the dialog's width */
#define SPIN_MAX 1e9

typedef struct
{
  const struct ns_setting *s;
  GtkWidget               *widget;  /* NULL: the dialog shows the row itself */
  GtkWidget               *label;
} Row;

struct _NsSettingRows
{
  GArray *rows;  /* Row */
};

/* "Label:" of a row, translated, its mnemonic kept */
static gchar *
row_label (const struct ns_setting *s)
{
  /* TRANSLATORS: a setting's label before its widget, "Seed:" */
  return g_strdup_printf (_("%s:"), _(s->label));
}

static GtkWidget *
number_widget (const struct ns_setting *s)
{
  gboolean whole = s->type == NS_SETTING_INT || s->type == NS_SETTING_U64;
  gdouble  lo    = s->type == NS_SETTING_U64 ? 0 : MAX (s->min, -SPIN_MAX);
  gdouble  hi    = s->type == NS_SETTING_U64 ? G_MAXUINT32 : MIN (s->max, SPIN_MAX);
  guint    digits = whole ? 0 : 2;

  /* a range that excludes its minimum starts one step above it */
  if (s->min_excluded)
    lo += whole ? 1 : 0.01;
  return ns_spin_new (lo, lo, hi, whole ? 1 : hi - lo <= 10 ? 0.1 : 1, digits);
}

static GtkWidget *
choice_widget (const struct ns_setting *s)
{
  GtkWidget *combo = gtk_combo_box_text_new ();
  gint       k, n = ns_restyle_n_choices (s);

  for (k = 0; k < n; k++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo),
                                    s->choice_labels ? _(s->choice_labels[k]) : s->choices[k]);
  return combo;
}

/* A fast style's name: the installed styles by title; the combo keeps
 * their names, in its order (GTK 2 has no ids). */
static GPtrArray *
style_names (GtkWidget *combo)
{
  return g_object_get_data (G_OBJECT (combo), "ns-style-names");
}

static void
style_widget_add (GtkWidget   *combo,
                  const gchar *name,
                  const gchar *title)
{
  g_ptr_array_add (style_names (combo), g_strdup (name));
  gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo), title);
}

static GtkWidget *
style_widget (void)
{
  GtkWidget *combo  = gtk_combo_box_text_new ();
  GPtrArray *styles = ns_fast_styles ();
  guint      k;

  g_object_set_data_full (G_OBJECT (combo), "ns-style-names", g_ptr_array_new_with_free_func (g_free),
                          (GDestroyNotify) g_ptr_array_unref);
  for (k = 0; k < styles->len; k++)
    {
      const NsFastStyle *st = g_ptr_array_index (styles, k);

      style_widget_add (combo, st->name, st->title);
    }
  if (styles->len)
    gtk_combo_box_set_active (GTK_COMBO_BOX (combo), 0);
  g_ptr_array_unref (styles);
  return combo;
}

static const gchar *
style_widget_get (GtkWidget *combo)
{
  gint k = gtk_combo_box_get_active (GTK_COMBO_BOX (combo));

  return k >= 0 ? g_ptr_array_index (style_names (combo), k) : "";
}

/* A script's name or file that is not installed is added as it is; none
 * named shows the first style, so that choosing a fast start is enough. */
static void
style_widget_set (GtkWidget   *combo,
                  const gchar *name)
{
  GPtrArray *names = style_names (combo);
  guint      k;

  for (k = 0; k < names->len && strcmp (g_ptr_array_index (names, k), name); k++)
    ;
  if (*name && k == names->len)
    style_widget_add (combo, name, name);
  gtk_combo_box_set_active (GTK_COMBO_BOX (combo), *name ? (gint) k : names->len ? 0 : -1);
}

NsSettingRows *
ns_setting_rows_new (enum ns_setting_place place,
                     GtkWidget            *grid,
                     gint                 *row,
                     NsSpecialRow          special,
                     GCallback             changed,
                     gpointer              data)
{
  NsSettingRows           *rows = g_new0 (NsSettingRows, 1);
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  rows->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  for (i = 0; i < n; i++)
    {
      Row    r = { &t[i], NULL, NULL };
      gchar *label;

      if (t[i].place != place || (special && special (&t[i], grid, row, data)))
        continue;
      switch (t[i].type)
        {
        case NS_SETTING_BOOL:
          r.widget = gtk_check_button_new_with_mnemonic (_(t[i].label));
          g_signal_connect_swapped (r.widget, "toggled", changed, data);
          ns_grid_attach (grid, r.widget, 1, (*row)++, 2);
          break;
        case NS_SETTING_CHOICE:
          r.widget = choice_widget (&t[i]);
          g_signal_connect_swapped (r.widget, "changed", changed, data);
          break;
        case NS_SETTING_STRING:
          if (t[i].style_name)
            {
              r.widget = style_widget ();
              g_signal_connect_swapped (r.widget, "changed", changed, data);
              break;
            }
          r.widget = gtk_entry_new ();
          gtk_entry_set_max_length (GTK_ENTRY (r.widget), NS_RESTYLE_TEXT_LEN - 1);
          g_signal_connect_swapped (r.widget, "changed", changed, data);
          break;
        default:
          r.widget = number_widget (&t[i]);
          g_signal_connect_swapped (r.widget, "value-changed", changed, data);
          break;
        }
      gimp_help_set_help_data (r.widget, _(t[i].help), NULL);
      if (t[i].type != NS_SETTING_BOOL)
        {
          label = row_label (&t[i]);
          ns_labelled (grid, (*row)++, label, r.widget, &r.label);
          g_free (label);
        }
      g_array_append_val (rows->rows, r);
    }
  return rows;
}

void
ns_setting_rows_free (NsSettingRows *rows)
{
  if (! rows)
    return;
  g_array_free (rows->rows, TRUE);
  g_free (rows);
}

void
ns_setting_rows_show (NsSettingRows         *rows,
                      const NsRestyleParams *p)
{
  guint i;

  for (i = 0; i < rows->rows->len; i++)
    {
      const Row *r = &g_array_index (rows->rows, Row, i);

      switch (r->s->type)
        {
        case NS_SETTING_BOOL:
          gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (r->widget), ns_restyle_get (p, r->s) != 0);
          break;
        case NS_SETTING_CHOICE:
          gtk_combo_box_set_active (GTK_COMBO_BOX (r->widget), (gint) ns_restyle_get (p, r->s));
          break;
        case NS_SETTING_STRING:
          if (r->s->style_name)
            {
              if (strcmp (style_widget_get (r->widget), ns_restyle_get_text (p, r->s)))
                style_widget_set (r->widget, ns_restyle_get_text (p, r->s));
            }
          else if (strcmp (gtk_entry_get_text (GTK_ENTRY (r->widget)), ns_restyle_get_text (p, r->s)))
            gtk_entry_set_text (GTK_ENTRY (r->widget), ns_restyle_get_text (p, r->s));
          break;
        default:
          gtk_spin_button_set_value (GTK_SPIN_BUTTON (r->widget), ns_restyle_get (p, r->s));
          break;
        }
    }
}

void
ns_setting_rows_read (NsSettingRows   *rows,
                      NsRestyleParams *p)
{
  guint i;

  for (i = 0; i < rows->rows->len; i++)
    {
      const Row *r = &g_array_index (rows->rows, Row, i);

      switch (r->s->type)
        {
        case NS_SETTING_BOOL:
          ns_restyle_set (p, r->s, gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (r->widget)));
          break;
        case NS_SETTING_CHOICE:
          ns_restyle_set (p, r->s, MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (r->widget))));
          break;
        case NS_SETTING_STRING:
          ns_restyle_set_text (p, r->s, r->s->style_name ? style_widget_get (r->widget)
                                                          : gtk_entry_get_text (GTK_ENTRY (r->widget)));
          break;
        default:
          {
            /* a spin button shows a value outside its range clamped: a
             * Script-Fu value stays until the number is changed */
            GtkAdjustment *adj   = gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (r->widget));
            gdouble        shown = CLAMP (ns_restyle_get (p, r->s), gtk_adjustment_get_lower (adj),
                                          gtk_adjustment_get_upper (adj));

            if (ns_spin_get (r->widget) != shown)
              ns_restyle_set (p, r->s, ns_spin_get (r->widget));
          }
          break;
        }
    }
}

void
ns_setting_rows_set_sensitive (NsSettingRows *rows,
                               const gchar   *name,
                               gboolean       sensitive)
{
  guint i;

  for (i = 0; i < rows->rows->len; i++)
    {
      const Row *r = &g_array_index (rows->rows, Row, i);

      if (! strcmp (r->s->name, name))
        {
          gtk_widget_set_sensitive (r->widget, sensitive);
          if (r->label)
            gtk_widget_set_sensitive (r->label, sensitive);
        }
    }
}
