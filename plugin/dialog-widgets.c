/* dialog-widgets.c - the dialog's small GTK helpers, where GTK 2 (GIMP
 * 2.10) and GTK 3 (GIMP 3.0) differ: grids, labels, spin buttons, scale
 * entries, combos, and a check that no two mnemonics share a key.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gdk/gdkkeysyms.h>

#include "dialog-private.h"

GtkWidget *
ns_grid_new (void)
{
#ifdef NS_GTK3
  GtkWidget *grid = gtk_grid_new ();

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
#else
  GtkWidget *grid = gtk_table_new (1, 3, FALSE);

  gtk_table_set_row_spacings (GTK_TABLE (grid), 6);
  gtk_table_set_col_spacings (GTK_TABLE (grid), 6);
#endif
  return grid;
}

void
ns_grid_attach (GtkWidget *grid,
                GtkWidget *child,
                gint       col,
                gint       row,
                gint       width)
{
#ifdef NS_GTK3
  gtk_widget_set_hexpand (child, col > 0 || width > 1);
  gtk_grid_attach (GTK_GRID (grid), child, col, row, width, 1);
#else
  gtk_table_attach (GTK_TABLE (grid), child, col, col + width, row, row + 1,
                    col > 0 || width > 1 ? GTK_EXPAND | GTK_FILL : GTK_FILL, GTK_FILL, 0, 0);
#endif
}

GtkWidget *
ns_box_new (gboolean vertical,
            gint     spacing)
{
#ifdef NS_GTK3
  return gtk_box_new (vertical ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL, spacing);
#else
  return vertical ? gtk_vbox_new (FALSE, spacing) : gtk_hbox_new (FALSE, spacing);
#endif
}

GtkWidget *
ns_label_new (const gchar *text,
              gboolean     mnemonic)
{
  GtkWidget *label = mnemonic ? gtk_label_new_with_mnemonic (text) : gtk_label_new (text);

#ifdef NS_GTK3
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
#else
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
#endif
  return label;
}

/* Characters a paragraph's last line keeps at least */
#define KEEP_AT_END 4

/* One paragraph [p, end) onto out, with a word joiner (U+2060) between
 * each two of its last KEEP_AT_END characters that no space separates:
 * Pango then carries them to the last line together.  In markup, tags are
 * not characters and an entity is one. */
static void
keep_end (GString     *out,
          const gchar *p,
          const gchar *end,
          gboolean     markup)
{
  const gchar *starts[256];
  gint         n = 0, i, from;
  const gchar *q;

  for (q = p; q < end;)
    {
      if (markup && *q == '<')
        {
          while (q < end && *q != '>')
            q++;
          q += q < end;
          continue;
        }
      if (n < (gint) G_N_ELEMENTS (starts))
        starts[n++] = q;
      else
        {
          memmove (starts, starts + 1, sizeof starts - sizeof starts[0]);
          starts[n - 1] = q;
        }
      if (markup && *q == '&')
        {
          while (q < end && *q != ';')
            q++;
          q += q < end;
        }
      else
        {
          q = g_utf8_next_char (q);
        }
    }
  from = MAX (1, n - KEEP_AT_END + 1);
  q    = p;
  for (i = from; i < n; i++)
    {
      if (g_unichar_isspace (g_utf8_get_char (starts[i])) || g_unichar_isspace (g_utf8_get_char (starts[i - 1])))
        continue;
      g_string_append_len (out, q, starts[i] - q);
      g_string_append (out, "\xe2\x81\xa0");
      q = starts[i];
    }
  g_string_append_len (out, q, end - q);
}

void
ns_label_set_text (GtkWidget   *label,
                   const gchar *text,
                   gboolean     markup)
{
  GString     *out = g_string_new (NULL);
  const gchar *p   = text ? text : "";

  for (;;)
    {
      const gchar *end = strchr (p, '\n');

      if (! end)
        end = p + strlen (p);
      keep_end (out, p, end, markup);
      if (! *end)
        break;
      g_string_append_c (out, '\n');
      p = end + 1;
    }
  if (markup)
    gtk_label_set_markup (GTK_LABEL (label), out->str);
  else
    gtk_label_set_text (GTK_LABEL (label), out->str);
  g_string_free (out, TRUE);
}

GtkWidget *
ns_wrapped_label_new (const gchar *text,
                      gint         width)
{
  GtkWidget *label = ns_label_new ("", FALSE);

  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  /* between words, or between characters where a language has no spaces */
  gtk_label_set_line_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_size_request (label, width, -1);
#ifdef NS_GTK3
  gtk_label_set_max_width_chars (GTK_LABEL (label), width / 7);
#endif
  ns_label_set_text (label, text, FALSE);
  return label;
}

gint
ns_lines_height (GtkWidget *widget,
                 gint       lines)
{
  GString     *text = g_string_new ("Ag\xe6\xbc\xa2");  /* a CJK glyph: its font may be taller */
  PangoLayout *layout;
  gint         i, height = 0;

  for (i = 1; i < lines; i++)
    g_string_append (text, "\nAg\xe6\xbc\xa2");
  layout = gtk_widget_create_pango_layout (widget, text->str);
  pango_layout_get_pixel_size (layout, NULL, &height);
  g_object_unref (layout);
  g_string_free (text, TRUE);
  return height;
}

GtkWidget *
ns_spin_new (gdouble value,
             gdouble lo,
             gdouble hi,
             gdouble step,
             guint   digits)
{
#ifdef NS_GTK3
  GtkAdjustment *adj = gtk_adjustment_new (value, lo, hi, step, step * 10, 0);
#else
  GtkAdjustment *adj = GTK_ADJUSTMENT (gtk_adjustment_new (value, lo, hi, step, step * 10, 0));
#endif
  GtkWidget *spin = gtk_spin_button_new (adj, step, digits);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  return spin;
}

gdouble
ns_spin_get (GtkWidget *spin)
{
  return gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin));
}

void
ns_labelled (GtkWidget   *grid,
             gint         row,
             const gchar *text,
             GtkWidget   *widget,
             GtkWidget  **label_out)
{
  GtkWidget *label = ns_label_new (text, TRUE);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  ns_grid_attach (grid, label, 0, row, 1);
  ns_grid_attach (grid, widget, 1, row, 2);
  if (label_out)
    *label_out = label;
}

/* ---- scale entries ---- */

NsScale
ns_scale_new (GtkWidget   *grid,
              gint         row,
              const gchar *label,
              gdouble      value,
              gdouble      soft_lo,
              gdouble      soft_hi,
              gdouble      lo,
              gdouble      hi,
              guint        digits,
              gboolean     logarithmic,
              const gchar *tooltip)
{
  NsScale s = { NULL, NULL };

#ifdef NS_GTK3
  s.entry = gimp_scale_entry_new (label, value, lo, hi, digits);
  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (s.entry), soft_lo, soft_hi, TRUE);
  gimp_scale_entry_set_logarithmic (GIMP_SCALE_ENTRY (s.entry), logarithmic);
  gimp_help_set_help_data (s.entry, tooltip, NULL);
  ns_grid_attach (grid, s.entry, 0, row, 3);
#else
  s.adj = GTK_ADJUSTMENT (gimp_scale_entry_new (GTK_TABLE (grid), 0, row, label, 180, 7, value,
                                                soft_lo, soft_hi, digits ? 0.1 : 1, digits ? 1 : 10,
                                                digits, FALSE, lo, hi, tooltip, NULL));
  gimp_scale_entry_set_logarithmic (GTK_OBJECT (s.adj), logarithmic);
#endif
  return s;
}

gdouble
ns_scale_get (const NsScale *s)
{
#ifdef NS_GTK3
  return gimp_label_spin_get_value (GIMP_LABEL_SPIN (s->entry));
#else
  return gtk_adjustment_get_value (s->adj);
#endif
}

void
ns_scale_set (const NsScale *s,
              gdouble        value)
{
#ifdef NS_GTK3
  gimp_label_spin_set_value (GIMP_LABEL_SPIN (s->entry), value);
#else
  gtk_adjustment_set_value (s->adj, value);
#endif
}

void
ns_scale_connect (const NsScale *s,
                  GCallback      callback,
                  gpointer       data)
{
#ifdef NS_GTK3
  g_signal_connect_swapped (s->entry, "value-changed", callback, data);
#else
  g_signal_connect_swapped (s->adj, "value-changed", callback, data);
#endif
}

/* ---- combos ---- */

gint
ns_combo_get (GtkWidget *combo)
{
  GtkTreeIter iter;
  gint        id = -1;

  if (gtk_combo_box_get_active_iter (GTK_COMBO_BOX (combo), &iter))
    gtk_tree_model_get (gtk_combo_box_get_model (GTK_COMBO_BOX (combo)), &iter, NS_COL_ID, &id, -1);
  return id;
}

void
ns_combo_set (GtkWidget *combo,
              gint       id)
{
  GtkTreeModel *model = gtk_combo_box_get_model (GTK_COMBO_BOX (combo));
  GtkTreeIter   iter;
  gboolean      ok;

  for (ok = gtk_tree_model_get_iter_first (model, &iter); ok; ok = gtk_tree_model_iter_next (model, &iter))
    {
      gint row_id;

      gtk_tree_model_get (model, &iter, NS_COL_ID, &row_id, -1);
      if (row_id == id)
        {
          gtk_combo_box_set_active_iter (GTK_COMBO_BOX (combo), &iter);
          return;
        }
    }
  gtk_combo_box_set_active (GTK_COMBO_BOX (combo), -1);
}

/* The thumbnails where asked, the names wrapped between words rather than
 * cut. */
GtkWidget *
ns_combo_from_store (GtkListStore *store,
                     gboolean      thumbs)
{
  GtkWidget       *combo = gtk_combo_box_new_with_model (GTK_TREE_MODEL (store));
  GtkCellRenderer *cell;

  g_object_unref (store);
  if (thumbs)
    {
      cell = gtk_cell_renderer_pixbuf_new ();
      gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, FALSE);
      gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "pixbuf", NS_COL_THUMB, NULL);
    }
  cell = gtk_cell_renderer_text_new ();
  g_object_set (cell, "wrap-mode", PANGO_WRAP_WORD_CHAR, "wrap-width", 260, NULL);
  gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, TRUE);
  gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "text", NS_COL_NAME, NULL);
  return combo;
}

GtkWidget *
ns_text_combo_new (const gchar *first,
                   ...)
{
  GtkWidget   *combo = gtk_combo_box_text_new ();
  const gchar *item;
  va_list      ap;

  va_start (ap, first);
  for (item = first; item; item = va_arg (ap, const gchar *))
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo), item);
  va_end (ap);
  return combo;
}

/* ---- layers and regions ---- */

/* A layer chooser: thumbnails and names. */
GtkWidget *
ns_layer_combo_new (const NsLayerList *layers,
                    GdkPixbuf       *(*thumbnail) (gint layer_id,
                                                   gint size),
                    const gchar       *none)
{
  GtkListStore    *store = gtk_list_store_new (NS_N_COLS, G_TYPE_INT, GDK_TYPE_PIXBUF, G_TYPE_STRING);
  gint             i;

  if (none)  /* the first row: no layer */
    {
      GtkTreeIter iter;

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, NS_COL_ID, -1, NS_COL_THUMB, NULL, NS_COL_NAME, none, -1);
    }

  for (i = 0; i < layers->n; i++)
    {
      const NsLayer *l     = &layers->layers[i];
      GdkPixbuf     *thumb = thumbnail (l->id, 24);
      gchar         *name  = l->depth ? g_strdup_printf ("%*s%s", 2 * l->depth, "", l->name)
                                      : g_strdup (l->name);
      GtkTreeIter    iter;

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, NS_COL_ID, l->id, NS_COL_THUMB, thumb, NS_COL_NAME, name, -1);
      if (thumb)
        g_object_unref (thumb);
      g_free (name);
    }

  return ns_combo_from_store (store, TRUE);
}

GtkWidget *
ns_region_combo_new (const NsLayerList *layers)
{
  GtkListStore    *store = gtk_list_store_new (NS_N_COLS, G_TYPE_INT, GDK_TYPE_PIXBUF, G_TYPE_STRING);
  const gchar     *fixed[3] = { _("The whole photo"), _("The selection"), _("Its layer mask") };
  GtkTreeIter      iter;
  gint             i;

  for (i = 0; i < 3; i++)
    {
      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, NS_COL_ID, -1 - i, NS_COL_NAME, fixed[i], -1);
    }
  for (i = 0; i < layers->n_channels; i++)
    {
      /* TRANSLATORS: a region chooser's row; %s is a channel's name */
      gchar *name = g_strdup_printf (_("Channel: %s"), layers->channel_names[i]);

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, NS_COL_ID, layers->channel_ids[i], NS_COL_NAME, name, -1);
      g_free (name);
    }
  return ns_combo_from_store (store, FALSE);
}
/* ---- mnemonics ---- */

static void
collect_mnemonics (GtkWidget *widget,
                   gpointer   data)
{
  GHashTable *seen = data;

  if (GTK_IS_LABEL (widget))
    {
      guint key = gtk_label_get_mnemonic_keyval (GTK_LABEL (widget));

      if (key != GDK_KEY_VoidSymbol)
        {
          const gchar *text  = gtk_label_get_label (GTK_LABEL (widget));
          gpointer     other = g_hash_table_lookup (seen, GUINT_TO_POINTER (gdk_keyval_to_lower (key)));

          if (other)
            g_warning ("the mnemonic %s is used twice: \"%s\" and \"%s\"",
                       gdk_keyval_name (gdk_keyval_to_lower (key)), (const gchar *) other, text);
          else
            g_hash_table_insert (seen, GUINT_TO_POINTER (gdk_keyval_to_lower (key)), (gpointer) text);
        }
    }
  /* forall: the notebook's tab labels and the buttons' labels too */
  if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), collect_mnemonics, data);
}

void
ns_check_mnemonics (GtkWidget *window)
{
  GHashTable *seen = g_hash_table_new (NULL, NULL);

  collect_mnemonics (window, seen);
  g_hash_table_destroy (seen);
}
