/* test_layers.c - the plug-in's guess of photo and painting, and when the
 * painting would hide the result, on the layer stacks photographers have. */
#include "layers.h"

#include "testlib.h"

#include <stdarg.h>

/* A layer of w x h at 0,0 and `path` (depth = number of positions, -1
 * ends it). */
static void add(NsLayerList *l, gint id, const char *name, gint w, gint h, gboolean group, gboolean visible, ...) {
    NsLayer layer = {id, (gchar *) name, w, h, 0, 0, visible, group, FALSE, -1, {0}, FALSE};
    va_list ap;
    va_start(ap, visible);
    for (int p; (p = va_arg(ap, int)) >= 0;)
        layer.path[++layer.depth] = p;
    va_end(ap);
    ns_layer_list_add(l, &layer);
}

static void expect(const NsLayerList *l, const gint *sel, gint n_sel, gint last_c, gint last_s, gint want_c,
                   gint want_s, const char *what) {
    gint c, s;
    ns_layers_guess(l, sel, n_sel, last_c, last_s, &c, &s);
    CHECK(c == want_c && s == want_s, "%s: photo %d and painting %d, expected %d and %d", what, c, s, want_c,
          want_s);
}

int main(void) {
    NsLayerList l = {0};
    gint painting[] = {3}, photo[] = {2}, both[] = {2, 3}, copy[] = {4}, result[] = {7};

    /* rainier.jpg opened, autumn-oak.jpg added with Open as Layers (active) */
    l.image_name = g_strdup("rainier.jpg"), l.width = 2048, l.height = 1365;
    add(&l, 3, "autumn-oak.jpg", 1717, 1200, FALSE, TRUE, 0, -1);
    add(&l, 2, "rainier.jpg", 2048, 1365, FALSE, TRUE, 1, -1);
    expect(&l, painting, 1, -1, -1, 2, 3, "painting just added and active");
    expect(&l, photo, 1, -1, -1, 2, 3, "photo active");
    expect(&l, both, 2, -1, -1, 2, 3, "both selected (GIMP 3)");
    expect(&l, NULL, 0, -1, -1, 2, 3, "nothing selected");
    expect(&l, painting, 1, 91, 92, 2, 3, "last values from another image");
    expect(&l, photo, 1, 3, 2, 3, 2, "the last pair (swapped by the photographer) is kept");
    CHECK(ns_layers_style_hides(&l, 2, 3), "the painting above the photo hides the result");
    CHECK(!ns_layers_style_hides(&l, 3, 2), "a photo below does not");
    l.layers[0].visible = FALSE;
    CHECK(!ns_layers_style_hides(&l, 2, 3), "a hidden painting does not");
    l.layers[0].visible = TRUE;

    /* a result of the last run is active: the last pair again */
    add(&l, 7, "Neural Style: autumn-oak.jpg", 2048, 1365, FALSE, TRUE, 0, -1);
    l.layers[l.n - 1].result = TRUE;
    l.layers[0].path[0] = 1, l.layers[1].path[0] = 2;
    expect(&l, result, 1, 2, 3, 2, 3, "a result active, the last pair known");
    CHECK(ns_layers_result_anchor(&l, 2) == 7, "the next result goes above the last one");
    CHECK(!ns_layers_style_hides(&l, 7, 3), "...where the painting below does not hide it");
    l.layers[l.n - 1].path[0] = 2, l.layers[1].path[0] = 3; /* painting, result, photo */
    CHECK(ns_layers_result_anchor(&l, 2) == 7, "a result between the painting and the photo");
    CHECK(ns_layers_style_hides(&l, 7, 3), "...and the painting above it would hide the next one");
    l.layers[l.n - 1].depth = 1; /* the result inside some group: not the photo's stack */
    CHECK(ns_layers_result_anchor(&l, 2) == 2, "a result in another stack is not an anchor");
    expect(&l, result, 1, -1, -1, 2, 3, "a result active, nothing known: results are never photo or painting");
    ns_layer_list_clear(&l);

    /* a saved XCF, the painting scaled to the canvas: the upper one is it */
    l.image_name = g_strdup("work.xcf"), l.width = 100, l.height = 80;
    add(&l, 5, "Oil painting", 100, 80, FALSE, TRUE, 0, -1);
    add(&l, 2, "Background", 100, 80, FALSE, TRUE, 1, -1);
    gint five[] = {5};
    expect(&l, five, 1, -1, -1, 2, 5, "of two canvas-sized layers the upper one is the painting");
    expect(&l, photo, 1, -1, -1, 2, 5, "...and the lower one the photo");
    ns_layer_list_clear(&l);

    /* an XCF reopened (IDs follow the stack, not the order they were added):
     * the painting on top and active, a text layer, the photo in a group */
    l.image_name = g_strdup("states.xcf"), l.width = 2048, l.height = 1365;
    add(&l, 1, "autumn-oak.jpg", 1717, 1200, FALSE, TRUE, 0, -1);
    add(&l, 2, "Mount Rainier", 500, 100, FALSE, TRUE, 1, -1);
    add(&l, 3, "Photos", 2048, 1365, TRUE, TRUE, 2, -1);
    add(&l, 4, "Background", 2048, 1365, FALSE, TRUE, 2, 0, -1);
    gint one[] = {1}, text[] = {2};
    expect(&l, one, 1, -1, -1, 4, 1, "a reopened XCF, the painting active");
    expect(&l, text, 1, -1, -1, 4, 2, "the text layer active: it is taken as the painting");
    ns_layer_list_clear(&l);

    /* a copy of the photo, made after the painting was added, is restyled */
    l.width = 100, l.height = 80;
    add(&l, 3, "autumn-oak.jpg", 90, 60, FALSE, TRUE, 0, -1);
    add(&l, 4, "Background copy", 100, 80, FALSE, TRUE, 1, -1);
    add(&l, 2, "Background", 100, 80, FALSE, TRUE, 2, -1);
    expect(&l, copy, 1, -1, -1, 4, 3, "a copy of the photo is a photo");
    ns_layer_list_clear(&l);

    /* groups: the photo inside a group, the painting at the top */
    l.image_name = g_strdup("rainier.jpg"), l.width = 2048, l.height = 1365;
    add(&l, 3, "autumn-oak.jpg", 1717, 1200, FALSE, TRUE, 0, -1);
    add(&l, 10, "Photo group", 2048, 1365, TRUE, FALSE, 1, -1);
    add(&l, 2, "rainier.jpg", 2048, 1365, FALSE, FALSE, 1, 0, -1);
    gint group[] = {10};
    expect(&l, painting, 1, -1, -1, 2, 3, "photo inside a group");
    expect(&l, group, 1, -1, -1, 10, 3, "a group as the photo");
    CHECK(!ns_layers_usable_pair(&l, 10, 2), "a group cannot pair with a layer it holds");
    CHECK(ns_layer_holds(&l.layers[1], &l.layers[2]) && !ns_layer_holds(&l.layers[2], &l.layers[1]),
          "the group holds its child");
    CHECK(ns_layer_is_above(&l.layers[0], &l.layers[2]) && !ns_layer_is_above(&l.layers[2], &l.layers[0]),
          "a top-level layer is drawn over a lower group's child");
    CHECK(!ns_layer_is_above(&l.layers[1], &l.layers[2]), "a group is not above its own child");
    ns_layer_list_clear(&l);

    /* one layer: no pair */
    l.image_name = g_strdup("rainier.jpg"), l.width = 2048, l.height = 1365;
    add(&l, 2, "rainier.jpg", 2048, 1365, FALSE, TRUE, 0, -1);
    expect(&l, photo, 1, -1, -1, -1, -1, "a single layer has no painting");
    ns_layer_list_clear(&l);

    return test_summary("test_layers");
}
