; Script-Fu for GIMP 3.0 batch mode, run by gimp3-chroot.sh.  @EXAMPLES@,
; @OUT@ and @CASE@ are substituted.  Facts go to stdout as "NSTEST key
; value" lines that check_results.py reads.
(define (say key . vals)
  (display "NSTEST ") (display key)
  (for-each (lambda (v) (display " ") (display v)) vals)
  (newline))

(define (open-pair)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg")))
         (content (vector-ref (car (gimp-image-get-layers img)) 0))
         (style (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
    (gimp-image-insert-layer img style 0 -1)
    (gimp-layer-set-offsets style 37 11)
    (gimp-image-set-selected-layers img (vector content))
    (list img content style)))

(define (n-layers img) (vector-length (car (gimp-image-get-layers img))))

(define (layer-facts tag img layer)
  (let ((off (gimp-drawable-get-offsets layer)))
    (say tag (car (gimp-drawable-get-width layer)) (car (gimp-drawable-get-height layer))
         (car off) (cadr off) (car (gimp-image-get-item-position img layer)))))

; exports the pixels of one layer: a new image holding a copy of it
(define (export-layer img layer name ext)
  (let* ((w (car (gimp-drawable-get-width layer)))
         (h (car (gimp-drawable-get-height layer)))
         (im2 (car (gimp-image-new-with-precision w h (car (gimp-image-get-base-type img))
                                                  (car (gimp-image-get-precision img)))))
         (copy (car (gimp-layer-new-from-drawable layer im2))))
    (gimp-image-insert-layer im2 copy 0 0)
    (gimp-layer-set-offsets copy 0 0)
    (if (string=? ext "ppm")
        (file-ppm-export #:run-mode RUN-NONINTERACTIVE #:image im2 #:file (string-append "@OUT@/" name ".ppm"))
        (file-tiff-export #:run-mode RUN-NONINTERACTIVE #:image im2 #:file (string-append "@OUT@/" name ".tif")))
    (gimp-image-delete im2)))

(define (restyle img content style size)
  (car (plug-in-neural-style #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector content)
                             #:style-layer style #:iterations 20 #:size size
                             #:content-weight 1.0 #:style-weight 100.0 #:tv-weight 10.0
                             #:optimizer "lbfgs" #:init "content" #:preserve-colors FALSE
                             #:style-scale 1.0 #:seed 1 #:device "cpu")))

(define (case-basic)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-layer-set-offsets content 5 7)
    (layer-facts "content" img content)
    (let ((new (restyle img content style 96)))
      (layer-facts "new" img new)
      (say "layers" (n-layers img))
      (say "name" (car (gimp-item-get-name new)))
      (say "undo-enabled" (car (gimp-image-undo-is-enabled img)))
      (export-layer img content "content" "ppm")
      (export-layer img style "style" "ppm")
      (export-layer img new "new" "ppm"))))

;; Draft against Final on a 768 x 512 photo: Draft's quarter size enlarged
;; as the plug-in does, Final (size 0) at the photo's own size
(define (case-final)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-scale img 768 512)
    (let* ((draft (restyle img content style 192))
           (final (begin (gimp-item-set-visible draft FALSE) (restyle img content style 0))))
      (layer-facts "content" img content)
      (layer-facts "final" img final)
      (export-layer img content "content" "ppm")
      (export-layer img draft "draft" "ppm")
      (export-layer img final "final" "ppm"))))

;; two paintings in two regions, by named arguments: the left half after the
;; oak (the selection), the right quarter after a hue-turned copy of it (its
;; layer mask, made from a selection); the band between stays the photo's
(define (case-regions)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p))
         (style2 (car (gimp-layer-copy style))))
    (gimp-image-insert-layer img style2 0 -1)
    (gimp-drawable-hue-saturation style2 HUE-RANGE-ALL 180 0 0 0)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 1536 0 512 1365)
    (gimp-layer-add-mask style2 (car (gimp-layer-create-mask style2 ADD-MASK-SELECTION)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 1024 1365)
    (let ((new (car (plug-in-neural-style #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector content)
                                          #:style-layer style #:iterations 20 #:size 128 #:seed 1 #:device "cpu"
                                          #:style-layer-2 style2
                                          #:region-1 "selection" #:region-2 "layer-mask"))))
      (layer-facts "new" img new)
      (gimp-selection-none img)
      (export-layer img content "content" "ppm")
      (export-layer img style "style" "ppm")
      (gimp-layer-remove-mask style2 MASK-DISCARD)
      (export-layer img style2 "style2" "ppm")
      (export-layer img new "new" "ppm"))))

(define (case-selection)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 600 400 800 500)
    (let ((new (restyle img content style 64)))
      (layer-facts "new" img new)
      (gimp-selection-none img)
      (export-layer img content "content" "ppm")
      (export-layer img new "new" "ppm"))))

;; a layer group as the photo and a text layer as the painting
(define (case-group-text)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p))
         (group (car (gimp-group-layer-new img "Photos")))
         (text (car (gimp-text-font img -1 40 40 "Autumn" 0 TRUE 120 (car (gimp-context-get-font))))))
    (gimp-image-insert-layer img group 0 1)
    (gimp-image-reorder-item img content group 0)
    (let ((new (restyle img group text 64)))
      (layer-facts "group" img group)
      (layer-facts "new" img new)
      (say "parent" (car (gimp-item-get-parent new))))))

(define (case-gray)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-convert-grayscale img)
    (let ((new (restyle img content style 64)))
      (say "gray-type" (car (gimp-drawable-type new)) (if (car (gimp-drawable-is-gray new)) 1 0)))))

(define (case-float)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-convert-precision img PRECISION-FLOAT-NON-LINEAR)
    (let ((new (restyle img content style 64)))
      (say "precision" (car (gimp-image-get-precision img)))
      (export-layer img new "new-float" "tif"))))

(define (case-other-image)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p))
         (other (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/autumn-oak.jpg")))
         (foreign (vector-ref (car (gimp-image-get-layers other)) 0)))
    (restyle img content foreign 64)))

(define (case-same-layer)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)))
    (restyle img content content 64)))

(define (case-indexed)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-convert-indexed img CONVERT-DITHER-NONE CONVERT-PALETTE-GENERATE 16 FALSE FALSE "")
    (restyle img content style 64)))

(define (case-weights)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (say "layers-before" (n-layers img))
    (catch "failed" (restyle img content style 64))
    (say "layers-after" (n-layers img))
    ; again without catch, so that the batch reports the status
    (restyle img content style 64)))

; far more pixels than memory holds: refused before anything is allocated
; (at 16384 px the photo alone now fits, block by block; a painting 8 times
; its size does not)
(define (case-memory)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (car (plug-in-neural-style #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector content)
                               #:style-layer style #:iterations 20 #:size 16384
                               #:content-weight 1.0 #:style-weight 100.0 #:tv-weight 10.0
                               #:optimizer "lbfgs" #:init "content" #:preserve-colors FALSE
                               #:style-scale 8.0 #:seed 1 #:device "cpu"))))

; 1 or 0 for a boolean return value (#t/#f, or 1/0 in Script-Fu's older style)
(define (truth v) (if (or (eq? v #t) (and (number? v) (= v 1))) 1 0))

;; the image a GUI session saved (gui.sh): every top-level layer, each exported
(define (case-inspect)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf")))
         (layers (vector->list (car (gimp-image-get-layers img))))
         (selected (car (gimp-image-get-selected-layers img))))
    (if (> (vector-length selected) 0)
        (say "active" (car (gimp-image-get-item-position img (vector-ref selected 0)))))
    (for-each
      (lambda (l)
        (let ((pos (car (gimp-image-get-item-position img l))))
          (say "layer" pos (truth (car (gimp-item-get-visible l)))
               (if (member "neural-style-result" (car (gimp-item-get-parasite-list l))) 1 0)
               (car (gimp-item-get-name l)))
          (export-layer img l (string-append "layer-" (number->string pos)) "ppm")))
      layers)))
;; the states photographers have, saved for a GUI session: the photo in a
;; layer group with a mask, a text layer, the painting on top with a long name; the photo and
;; the painting both selected
(define (case-states-xcf)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg")))
         (photo (vector-ref (car (gimp-image-get-layers img)) 0))
         (group (car (gimp-group-layer-new img "Photos")))
         (mask (car (gimp-layer-create-mask photo ADD-MASK-WHITE))))
    (gimp-image-insert-layer img group 0 0)
    (gimp-image-reorder-item img photo group 0)
    (gimp-layer-add-mask photo mask)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 400 300)
    (gimp-context-set-foreground '(0 0 0))
    (gimp-drawable-edit-fill mask FILL-FOREGROUND)
    (gimp-selection-none img)
    (gimp-text-font img -1 40 1200 "Mount Rainier" 0 TRUE 80 (car (gimp-context-get-font)))
    (let ((painting (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
      (gimp-image-insert-layer img painting 0 0)
      (gimp-item-set-name painting "Autumn oaks on the hillside, oil on canvas, seen in the museum last year")
      (gimp-image-set-selected-layers img (vector photo painting))
      (gimp-xcf-save RUN-NONINTERACTIVE img "@OUT@/states.xcf"))))

;; for the GUI's regions session: the painting enlarged to the image (Add
;; Alpha Channel, Layer to Image Size: a transparent border), a hue-turned copy "sea" above it
;; with a layer mask on the right quarter, the left half selected
(define (case-regions-xcf)
  (let* ((p (open-pair)) (img (car p)) (style (caddr p)))
    (gimp-layer-add-alpha style)
    (gimp-layer-resize-to-image-size style)
    (let ((sea (car (gimp-layer-copy style))))
      (gimp-image-insert-layer img sea 0 0)
      (gimp-item-set-name sea "sea")
      (gimp-drawable-hue-saturation sea HUE-RANGE-ALL 180 0 0 0)
      (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 1536 0 512 1365)
      (gimp-layer-add-mask sea (car (gimp-layer-create-mask sea ADD-MASK-SELECTION)))
      (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 1024 1365)
      (gimp-image-set-selected-layers img (vector style))
      (gimp-xcf-save RUN-NONINTERACTIVE img "@OUT@/regions.xcf"))))

;; every layer of the saved image, groups' children after them
(define (describe img layers depth)
  (for-each
    (lambda (l)
      (say "item" depth (car (gimp-image-get-item-position img l)) (truth (car (gimp-item-get-visible l)))
           (if (member "neural-style-result" (car (gimp-item-get-parasite-list l))) 1 0)
           (let ((m (car (gimp-layer-get-mask l)))) (if (or (eq? m #f) (and (number? m) (< m 0))) 0 1))
           (truth (car (gimp-item-is-group l)))
           (car (gimp-item-get-name l)))
      (if (= (truth (car (gimp-item-is-group l))) 1)
          (describe img (vector->list (car (gimp-item-get-children l))) (+ depth 1))))
    layers))
(define (case-inspect-states)
  (let ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf"))))
    (describe img (vector->list (car (gimp-image-get-layers img))) 0)))

(define (case-inspect-en) (case-inspect))
;; the paintings have alpha and "sea" a mask (PPM has neither): each layer's
;; own pixels, exported from a copy with the alpha flattened away; their
;; opaque part is what check_gui.py reads
(define (case-inspect-regions)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf")))
         (layers (vector->list (car (gimp-image-get-layers img)))))
    (for-each
      (lambda (l)
        (let* ((pos (car (gimp-image-get-item-position img l)))
               (im2 (car (gimp-image-new (car (gimp-drawable-get-width l)) (car (gimp-drawable-get-height l)) RGB)))
               (copy (car (gimp-layer-new-from-drawable l im2))))
          (say "layer" pos (truth (car (gimp-item-get-visible l)))
               (if (member "neural-style-result" (car (gimp-item-get-parasite-list l))) 1 0)
               (car (gimp-item-get-name l)))
          (gimp-image-insert-layer im2 copy 0 0)
          (gimp-layer-set-offsets copy 0 0)
          (gimp-item-set-visible copy TRUE)
          (if (> (car (gimp-layer-get-mask copy)) 0) (gimp-layer-remove-mask copy MASK-DISCARD))
          (gimp-image-flatten im2)
          (file-ppm-export #:run-mode RUN-NONINTERACTIVE #:image im2
                           #:file (string-append "@OUT@/layer-" (number->string pos) ".ppm"))
          (gimp-image-delete im2)))
      layers)))
(define (case-inspect-ja) (case-inspect))
(define (case-inspect-fast) (case-inspect))

;; Neural Style (Fast) from a script, by argument name: an unknown style is
;; an error that leaves the image as it was; then the installed test style
;; on a 512 px photo through a selection
(define (fast img content style)
  (car (plug-in-neural-style-fast #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector content)
                                  #:style style #:strength 100.0 #:brush-size 1.0 #:keep-colors FALSE
                                  #:device "cpu")))
(define (case-fast)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg")))
         (content (vector-ref (car (gimp-image-get-layers img)) 0)))
    (catch #f (fast img content "no-such-style"))
    (say "layers-after-error" (n-layers img))
    (gimp-image-scale img 512 341)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 100 80 300 200)
    (let ((new (fast img content "random")))
      (layer-facts "content" img content)
      (layer-facts "new" img new)
      (say "name" (car (gimp-item-get-name new)))
      (say "visible" (car (gimp-item-get-visible new)))
      (gimp-selection-none img)
      (export-layer img content "content" "ppm")
      (export-layer img new "new" "ppm")
      ;; Train Neural Style from a script: the painting as a layer, the
      ;; folder of this case's images as the photos, 4 steps at 32 px; the
      ;; new style then applied
      (let ((painting (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
        (gimp-image-insert-layer img painting 0 0)
        (export-layer img painting "painting" "ppm")
        (export-layer img content "photo-copy" "ppm")
        (let* ((style (car (plug-in-neural-style-train #:run-mode RUN-NONINTERACTIVE #:image img
                                                       #:drawables (vector painting) #:name "script-oak"
                                                       #:photos "@OUT@" #:steps 4.0 #:size 32.0 #:device "cpu")))
               (styled (fast img content style)))
          (say "trained" style)
          (say "trained-layer" (car (gimp-item-get-name styled)))
          (warm-start img content painting))))))

;; The exact method from a fast style's result (init "model", init-model)
;; at 0 iterations: the start itself, against the photo's; a style not
;; installed is a calling error that adds no layer.
(define (warm-run img content painting init model)
  (car (plug-in-neural-style #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector content)
                             #:style-layer painting #:iterations 0 #:size 128 #:init init #:init-model model
                             #:device "cpu")))
(define (warm-start img content painting)
  (say "layers-before-warm" (n-layers img))
  (catch #f (warm-run img content painting "model" "no-such-style"))
  (say "layers-after-warm-error" (n-layers img))
  (export-layer img (warm-run img content painting "content" "") "cold" "ppm")
  (export-layer img (warm-run img content painting "model" "random") "warm" "ppm"))

(@CASE@)
