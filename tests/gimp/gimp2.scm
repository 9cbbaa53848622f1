; Script-Fu for GIMP 2.10 batch mode, run by run_gimp_tests.sh.
; @EXAMPLES@, @OUT@ and @CASE@ are substituted.  Facts go to stdout as
; "NSTEST key value" messages that the driver checks.
(define (say key . vals)
  (gimp-message (string-append "NSTEST " key " "
    (apply string-append (map (lambda (v) (string-append (if (number? v) (number->string v) v) " ")) vals)))))

(define (open-pair)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg" "rainier.jpg")))
         (content (car (gimp-image-get-active-layer img)))
         (style (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
    (gimp-image-insert-layer img style 0 -1)
    (gimp-layer-set-offsets style 37 11)
    (gimp-image-set-active-layer img content)
    (list img content style)))

(define (layer-facts tag img layer)
  (say tag (car (gimp-drawable-width layer)) (car (gimp-drawable-height layer))
       (car (gimp-drawable-offsets layer)) (cadr (gimp-drawable-offsets layer))
       (car (gimp-image-get-item-position img layer))))

(define (export img layer name)
  (file-ppm-save RUN-NONINTERACTIVE img layer (string-append "@OUT@/" name ".ppm") name 1))

(define (restyle img content style size)
  (car (plug-in-neural-style RUN-NONINTERACTIVE img content style 20 size 1.0 100.0 10.0 0 0 FALSE 1.0 1 @DEVICE@ 0)))

(define (case-basic)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-layer-set-offsets content 5 7)
    (layer-facts "content" img content)
    (let ((new (restyle img content style 96)))
      (layer-facts "new" img new)
      (say "layers" (car (gimp-image-get-layers img)))
      (say "name" (car (gimp-item-get-name new)))
      (say "undo-enabled" (car (gimp-image-undo-is-enabled img)))
      (export img content "content")
      (export img style "style")
      (export img new "new"))))

(define (case-selection)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 600 400 800 500)
    (let ((new (restyle img content style 64)))
      (layer-facts "new" img new)
      (gimp-selection-none img)
      (export img content "content")
      (export img new "new"))))

;; Draft against Final on a 768 x 512 photo: Draft's quarter size enlarged
;; as the plug-in does, Final (size 0) at the photo's own size
(define (case-final)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-scale img 768 512)
    (let* ((draft (restyle img content style 192))
           (final (begin (gimp-item-set-visible draft FALSE) (restyle img content style 0))))
      (layer-facts "content" img content)
      (layer-facts "final" img final)
      (export img content "content")
      (export img draft "draft")
      (export img final "final"))))

;; a layer group as the photo and a text layer as the painting
;; two paintings in two regions through plug-in-neural-style2: the left half
;; after the oak (the selection), the right quarter after a hue-turned copy
;; of it (a channel); the band between stays the photo's own pixels
(define (case-regions)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p))
         (style2 (car (gimp-layer-copy style FALSE))))
    (gimp-image-insert-layer img style2 0 -1)
    (gimp-drawable-hue-saturation style2 HUE-RANGE-ALL 180 0 0 0)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 1536 0 512 1365)
    (let ((right (car (gimp-selection-save img))))
      (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 1024 1365)
      (let ((new (car (plug-in-neural-style2 RUN-NONINTERACTIVE img content style 20 128 1.0 100.0 10.0 0 0
                                             FALSE 1.0 1 @DEVICE@ 0
                                             0 "" "" 0 0.0 FALSE FALSE style2 -1 1.0 1.0 1.0
                                             1 3 0 -1 right -1))))
        (layer-facts "new" img new)
        (gimp-selection-none img)
        (export img content "content")
        (export img style "style")
        (export img style2 "style2")
        (export img new "new")))))

(define (case-group-text)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p))
         (group (car (gimp-layer-group-new img)))
         (text (car (gimp-text-fontname img -1 40 40 "Autumn" 0 TRUE 120 PIXELS "Sans"))))
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
      (say "gray-type" (car (gimp-drawable-type new)) (car (gimp-drawable-is-gray new))))))

(define (case-float)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (gimp-image-convert-precision img PRECISION-FLOAT-GAMMA)
    (let ((new (restyle img content style 64)))
      (say "precision" (car (gimp-image-get-precision img)))
      ; TIFF export writes every layer as a page: keep only the new one
      (gimp-image-remove-layer img content)
      (gimp-image-remove-layer img style)
      (file-tiff-save RUN-NONINTERACTIVE img new "@OUT@/new-float.tif" "new-float.tif" 0))))

(define (case-other-image)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p))
         (other (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/autumn-oak.jpg" "x")))
         (foreign (car (gimp-image-get-active-layer other))))
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
    (say "layers-before" (car (gimp-image-get-layers img)))
    (catch #f (restyle img content style 64))
    (say "layers-after" (car (gimp-image-get-layers img)))
    ; again without catch, so that the batch reports the status
    (restyle img content style 64)))

; far more pixels than memory holds: refused before anything is allocated
; (at 16384 px the photo alone now fits, block by block; a painting 8 times
; its size does not)
(define (case-memory)
  (let* ((p (open-pair)) (img (car p)) (content (cadr p)) (style (caddr p)))
    (car (plug-in-neural-style RUN-NONINTERACTIVE img content style 20 16384 1.0 100.0 10.0 0 0 FALSE 8.0 1 @DEVICE@ 0))))

;; the image a GUI session saved (gui.sh): every top-level layer, each exported
(define (case-inspect)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf" "result.xcf")))
         (layers (vector->list (cadr (gimp-image-get-layers img)))))
    (say "active" (car (gimp-image-get-item-position img (car (gimp-image-get-active-layer img)))))
    (for-each
      (lambda (l)
        (let ((pos (car (gimp-image-get-item-position img l))))
          (say "layer" pos (car (gimp-item-get-visible l))
               (if (member "neural-style-result" (cadr (gimp-item-get-parasite-list l))) 1 0)
               (car (gimp-item-get-name l)))
          (export img l (string-append "layer-" (number->string pos)))))
      layers)))
;; the states photographers have, saved for a GUI session: the photo in a
;; layer group with a mask, a text layer, the painting on top with a long name and active
(define (case-states-xcf)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg" "rainier.jpg")))
         (photo (car (gimp-image-get-active-layer img)))
         (group (car (gimp-layer-group-new img)))
         (mask (car (gimp-layer-create-mask photo ADD-MASK-WHITE))))
    (gimp-item-set-name group "Photos")
    (gimp-image-insert-layer img group 0 0)
    (gimp-image-reorder-item img photo group 0)
    (gimp-layer-add-mask photo mask)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 400 300)
    (gimp-context-set-foreground '(0 0 0))
    (gimp-drawable-edit-fill mask FILL-FOREGROUND)
    (gimp-selection-none img)
    (gimp-text-fontname img -1 40 1200 "Mount Rainier" 0 TRUE 80 PIXELS "Sans")
    (let ((painting (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
      (gimp-image-insert-layer img painting 0 0)
      (gimp-item-set-name painting "Autumn oaks on the hillside, oil on canvas, seen in the museum last year")
      (gimp-image-set-active-layer img painting)
      (gimp-xcf-save 0 img painting "@OUT@/states.xcf" "states.xcf"))))

;; for the GUI's regions session: the painting enlarged to the image (Add
;; Alpha Channel, Layer to Image Size: a transparent border), a hue-turned copy "sea" above it
;; with a layer mask on the right quarter, the left half selected
(define (case-regions-xcf)
  (let* ((p (open-pair)) (img (car p)) (style (caddr p)))
    (gimp-layer-add-alpha style)
    (gimp-layer-resize-to-image-size style)
    (let ((sea (car (gimp-layer-copy style FALSE))))
      (gimp-image-insert-layer img sea 0 0)
      (gimp-item-set-name sea "sea")
      (gimp-drawable-hue-saturation sea HUE-RANGE-ALL 180 0 0 0)
      (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 1536 0 512 1365)
      (gimp-layer-add-mask sea (car (gimp-layer-create-mask sea ADD-MASK-SELECTION)))
      (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 1024 1365)
      (gimp-image-set-active-layer img style)
      (gimp-xcf-save 0 img style "@OUT@/regions.xcf" "regions.xcf"))))

;; every layer of the saved image, groups' children after them
(define (describe img layers depth)
  (for-each
    (lambda (l)
      (say "item" depth (car (gimp-image-get-item-position img l)) (car (gimp-item-get-visible l))
           (if (member "neural-style-result" (cadr (gimp-item-get-parasite-list l))) 1 0)
           (if (= (car (gimp-layer-get-mask l)) -1) 0 1) (car (gimp-item-is-group l))
           (car (gimp-item-get-name l)))
      (if (= (car (gimp-item-is-group l)) 1)
          (describe img (vector->list (cadr (gimp-item-get-children l))) (+ depth 1))))
    layers))
(define (case-inspect-states)
  (let ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf" "result.xcf"))))
    (describe img (vector->list (cadr (gimp-image-get-layers img))) 0)))

(define (case-inspect-en) (case-inspect))
;; the paintings have alpha (PPM has none): flattened onto the background
;; colour first, their opaque part is what check_gui.py reads
(define (case-inspect-regions)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@OUT@/result.xcf" "result.xcf")))
         (layers (vector->list (cadr (gimp-image-get-layers img)))))
    (for-each (lambda (l) (if (= (car (gimp-drawable-has-alpha l)) 1) (gimp-layer-flatten l))) layers)
    (gimp-xcf-save 0 img (car (gimp-image-get-active-layer img)) "@OUT@/result.xcf" "result.xcf")
    (case-inspect)))
(define (case-inspect-ja) (case-inspect))
(define (case-inspect-fast) (case-inspect))

;; Neural Style (Fast) from a script: an unknown style is an error that
;; leaves the image as it was; then the installed test style on a 512 px
;; photo through a selection
(define (case-fast)
  (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE "@EXAMPLES@/rainier.jpg" "rainier.jpg")))
         (content (car (gimp-image-get-active-layer img))))
    (catch #f (plug-in-neural-style-fast RUN-NONINTERACTIVE img content "no-such-style" 100.0 1.0 0 @DEVICE@))
    (say "layers-after-error" (car (gimp-image-get-layers img)))
    (gimp-image-scale img 512 341)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 100 80 300 200)
    (let ((new (car (plug-in-neural-style-fast RUN-NONINTERACTIVE img content "random" 100.0 1.0 0 @DEVICE@))))
      (layer-facts "content" img content)
      (layer-facts "new" img new)
      (say "name" (car (gimp-item-get-name new)))
      (say "visible" (car (gimp-item-get-visible new)))
      (gimp-selection-none img)
      (export img content "content")
      (export img new "new")
      ;; Train Neural Style from a script: the painting as a layer, the
      ;; folder of this case's images as the photos, 4 steps at 32 px; the
      ;; new style then applied
      (let ((painting (car (gimp-file-load-layer RUN-NONINTERACTIVE img "@EXAMPLES@/autumn-oak.jpg"))))
        (gimp-image-insert-layer img painting 0 0)
        (export img painting "painting")
        (export img content "photo-copy")
        (let* ((style (car (plug-in-neural-style-train RUN-NONINTERACTIVE img painting "script-oak" "@OUT@"
                                                       4.0 32.0 @DEVICE@)))
               (styled (car (plug-in-neural-style-fast RUN-NONINTERACTIVE img content style 100.0 1.0 0
                                                       @DEVICE@))))
          (say "trained" style)
          (say "trained-layer" (car (gimp-item-get-name styled)))
          (warm-start img content painting))))))

;; The exact method from a fast style's result (plug-in-neural-style3's
;; init 2 and init-model) at 0 iterations: the start itself, against the
;; photo's; a style not installed is a calling error that adds no layer.
(define (warm-run img content painting init model)
  (car (plug-in-neural-style3 RUN-NONINTERACTIVE img content painting 0 128 1.0 100.0 10.0 0 init FALSE 1.0 1
                              @DEVICE@ 0 0 "" "" 0 0.0 FALSE FALSE model -1 -1 1.0 1.0 1.0 0 0 0 -1 -1 -1)))
(define (warm-start img content painting)
  (say "layers-before-warm" (car (gimp-image-get-layers img)))
  (catch #f (warm-run img content painting 2 "no-such-style"))
  (say "layers-after-warm-error" (car (gimp-image-get-layers img)))
  (export img (warm-run img content painting 0 "") "cold")
  (export img (warm-run img content painting 2 "random") "warm"))

(@CASE@)
