;; The frame decoder's inner loop: COBS unstuffing and CRC-32C, in WebAssembly.
;;
;; Why: in V8 this loop runs about three times faster here than as TypeScript over a Uint8Array
;; (no bounds checks per byte, unaligned 32-bit loads for slicing-by-8). The framing logic
;; (header, sequence numbers, counters, callbacks) stays in frame-decoder.ts; this module only
;; turns input bytes into checked packets. Generated into unstuff-wasm.ts by `npm run kernel`;
;; a test fails when that file drifts from this source.
;;
;; Memory (2 pages, never grown, so views on it stay valid):
;;   [0, 8192)       CRC-32C slicing-by-8 tables, 8 x 256 little-endian i32, written by the host
;;   [8192, 16384)   the packet being unstuffed (at most `limit` bytes)
;;   [16384, 81920)  the input window: the host copies a chunk here, then calls feed(len)
;;
;; Invariant between calls: the globals hold the state of the segment in progress, so a frame may
;; arrive split over any number of feed() calls and decode the same as when whole.
(module
    (memory (export "memory") 2)
  (global $pos (mut i32) (i32.const 0))
  (global $end (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0))
  (global $left (mut i32) (i32.const 0))
  (global $zp (mut i32) (i32.const 0))
  (global $seg (mut i32) (i32.const 0))
  (global $failed (mut i32) (i32.const 0))
  (global $plen (mut i32) (i32.const 0))
  (global $limit (mut i32) (i32.const 1024))

  (func (export "setLimit") (param $l i32) (global.set $limit (local.get $l)))
  (func (export "packetLength") (result i32) (global.get $plen))
  (func (export "reset")
    (global.set $out (i32.const 0)) (global.set $left (i32.const 0)) (global.set $zp (i32.const 0))
    (global.set $seg (i32.const 0)) (global.set $failed (i32.const 0)))
  (func (export "feed") (param $len i32)
    (global.set $pos (i32.const 16384))
    (global.set $end (i32.add (i32.const 16384) (local.get $len))))

  (func $crc (param $p i32) (param $n i32) (result i32)
    (local $c i32) (local $end i32) (local $lo i32) (local $hi i32)
    (local.set $c (i32.const -1))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $b8 (loop $l8
      (br_if $b8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      (local.set $lo (i32.xor (i32.load (local.get $p)) (local.get $c)))
      (local.set $hi (i32.load offset=4 (local.get $p)))
      (local.set $c (i32.xor (i32.xor (i32.xor
        (i32.load offset=7168 (i32.shl (i32.and (local.get $lo) (i32.const 255)) (i32.const 2)))
        (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 8)) (i32.const 255)) (i32.const 2))))
        (i32.xor
        (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $lo) (i32.const 16)) (i32.const 255)) (i32.const 2)))
        (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $lo) (i32.const 24)) (i32.const 2)))))
        (i32.xor (i32.xor
        (i32.load offset=3072 (i32.shl (i32.and (local.get $hi) (i32.const 255)) (i32.const 2)))
        (i32.load offset=2048 (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 8)) (i32.const 255)) (i32.const 2))))
        (i32.xor
        (i32.load offset=1024 (i32.shl (i32.and (i32.shr_u (local.get $hi) (i32.const 16)) (i32.const 255)) (i32.const 2)))
        (i32.load (i32.shl (i32.shr_u (local.get $hi) (i32.const 24)) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $l8)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (i32.xor
        (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
        (i32.shr_u (local.get $c) (i32.const 8))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l1)))
    (i32.xor (local.get $c) (i32.const -1)))

  (func (export "crc") (param $p i32) (param $n i32) (result i32) (call $crc (local.get $p) (local.get $n)))

  ;; Returns 0 when the input is used up, else (n << 3) | status for the segment that just ended:
  ;; status 1 ok, the packet at 8192 and n its length; otherwise n is the segment's encoded length
  ;; and status is 2 cobs, 3 short, 4 oversized, 5 crc, or 6 empty (two delimiters in a row).
  (func (export "next") (result i32)
    (local $pos i32) (local $end i32) (local $out i32) (local $left i32) (local $b i32) (local $stop i32)
    (local $seg i32) (local $n i32) (local $status i32)
    (local.set $pos (global.get $pos)) (local.set $end (global.get $end))
    (local.set $out (global.get $out)) (local.set $left (global.get $left))
    (block $delim
      (loop $scan
        (if (i32.ge_u (local.get $pos) (local.get $end))
          (then
            (global.set $seg (i32.add (global.get $seg) (i32.sub (local.get $pos) (global.get $pos))))
            (global.set $pos (local.get $pos)) (global.set $out (local.get $out)) (global.set $left (local.get $left))
            (return (i32.const 0))))
        (local.set $b (i32.load8_u (local.get $pos)))
        (br_if $delim (i32.eqz (local.get $b)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (if (global.get $failed) (then (br $scan)))
        (if (i32.eqz (local.get $left))
          (then
            ;; a code byte
            (if (global.get $zp)
              (then
                (if (i32.ge_u (local.get $out) (global.get $limit)) (then (global.set $failed (i32.const 1)) (br $scan)))
                (i32.store8 offset=8192 (local.get $out) (i32.const 0))
                (local.set $out (i32.add (local.get $out) (i32.const 1)))))
            (local.set $left (i32.sub (local.get $b) (i32.const 1)))
            (global.set $zp (i32.ne (local.get $b) (i32.const 255)))
            (if (i32.gt_u (i32.add (local.get $out) (local.get $left)) (global.get $limit)) (then (global.set $failed (i32.const 1))))
            (br $scan)))
        ;; a data byte, then the rest of the block up to the input end or a zero
        (i32.store8 offset=8192 (local.get $out) (local.get $b))
        (local.set $out (i32.add (local.get $out) (i32.const 1)))
        (local.set $left (i32.sub (local.get $left) (i32.const 1)))
        (local.set $stop (i32.add (local.get $pos) (local.get $left)))
        (if (i32.gt_u (local.get $stop) (local.get $end)) (then (local.set $stop (local.get $end))))
        (block $cb (loop $copy
          (br_if $cb (i32.ge_u (local.get $pos) (local.get $stop)))
          (local.set $b (i32.load8_u (local.get $pos)))
          (br_if $cb (i32.eqz (local.get $b)))
          (i32.store8 offset=8192 (local.get $out) (local.get $b))
          (local.set $out (i32.add (local.get $out) (i32.const 1)))
          (local.set $left (i32.sub (local.get $left) (i32.const 1)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (br $copy)))
        (br $scan)))
    ;; at a delimiter
    (local.set $seg (i32.add (global.get $seg) (i32.sub (local.get $pos) (global.get $pos))))
    (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
    (global.set $pos (local.get $pos))
    (local.set $n (local.get $out))
    (global.set $out (i32.const 0)) (global.set $left (i32.const 0)) (global.set $zp (i32.const 0))
    (global.set $seg (i32.const 0))
    (if (i32.eqz (local.get $seg)) (then (return (i32.const 6))))
    (local.set $status
      (if (result i32) (global.get $failed) (then (i32.const 4))
      (else (if (result i32) (i32.gt_u (local.get $left) (i32.const 0)) (then (i32.const 2))
      (else (if (result i32) (i32.lt_u (local.get $n) (i32.const 12)) (then (i32.const 3))
      (else (if (result i32)
        (i32.ne (call $crc (i32.const 8192) (i32.sub (local.get $n) (i32.const 4))) (i32.load offset=8188 (local.get $n)))
        (then (i32.const 5)) (else (i32.const 1))))))))))
    (global.set $failed (i32.const 0))
    (global.set $plen (local.get $n))
    (if (i32.eq (local.get $status) (i32.const 1))
      (then (return (i32.or (i32.shl (local.get $n) (i32.const 3)) (i32.const 1)))))
    (i32.or (i32.shl (local.get $seg) (i32.const 3)) (local.get $status)))
)
