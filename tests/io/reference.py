#!/usr/bin/python3
"""Reference data for tests/io/test_reference.c: what PIL 9 and torchvision 0.14 make
of the photos in the data folder and of generated images covering every PNG colour
type and bit depth, interlacing, progressive / grey / CMYK JPEGs, odd, tiny, very
wide and very tall sizes and images smaller than the crop.

Usage: reference.py OUT_DIR PHOTO_DIR

Writes OUT_DIR/images/* (the generated images), and for every case NAME:
  OUT_DIR/NAME.rgb   PIL's Image.open(p).convert("RGB") as raw bytes (H x W x 3)
  OUT_DIR/NAME.npy   Compose([Resize(r), CenterCrop(c), ToTensor(), Normalize(m, s)])
                     of that image, float32 (3, c, c), written by numpy
Each photo is also run through torchvision's own transform of the IMAGENET1K_V2
weights, ResNet50_Weights.IMAGENET1K_V2.transforms() (resize 232, crop 224,
bilinear), as case NAME_imagenet1k_v2. And OUT_DIR/manifest.txt, one line per
case, tab-separated:
  NAME IMAGE_PATH WIDTH HEIGHT RESIZE CROP MEAN0 MEAN1 MEAN2 STD0 STD1 STD2
with the floats written as float.hex() of the Python doubles torchvision is given.
Exits 77 (CTest's "skipped") when numpy, PIL, torch or torchvision is missing.
"""
import io
import os
import struct
import sys
import zlib

try:
    import numpy as np
    from PIL import Image
    import torch
    from torchvision import models, transforms
except ImportError as error:  # the C test turns 77 into a skip
    print(f"reference.py: {error}: install python3-torchvision (with numpy, PIL) "
          "to compare against torchvision; skipping", file=sys.stderr)
    sys.exit(77)

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def smooth_noise(rng, height, width, channels):
    """Gradients plus noise: structure for the filter and every byte value used."""
    y, x = np.mgrid[0:height, 0:width]
    base = (x * 255.0 / max(width - 1, 1) + y * 127.0 / max(height - 1, 1))[..., None]
    wave = 60.0 * np.sin(x / 7.0 + y / 11.0)[..., None] * np.arange(1, channels + 1)
    noise = rng.normal(0.0, 40.0, (height, width, channels))
    return np.clip(base + wave + noise, 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2))


def pack_rows(samples, bit_depth):
    """samples: (H, W*channels) integers -> list of packed row bytes."""
    rows = []
    for row in samples:
        if bit_depth == 16:
            rows.append(np.asarray(row, dtype=">u2").tobytes())
        elif bit_depth == 8:
            rows.append(np.asarray(row, dtype=np.uint8).tobytes())
        else:
            per_byte = 8 // bit_depth
            out = bytearray((len(row) + per_byte - 1) // per_byte)
            for i, v in enumerate(row):
                out[i // per_byte] |= int(v) << (8 - bit_depth * (i % per_byte + 1))
            rows.append(bytes(out))
    return rows


def write_png(path, pixels, bit_depth, color_type, palette=None, trns=None, interlace=False):
    """A PNG written by hand, for the bit depths and colour types PIL cannot write.
    pixels: (H, W, channels) samples; rows use filter 0, or Adam7 passes."""
    height, width, channels = pixels.shape
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(b"\0" + r for r in pack_rows(sub.reshape(sub.shape[0], -1),
                                                             bit_depth))
    else:
        raw = b"".join(b"\0" + r for r in pack_rows(pixels.reshape(height, -1), bit_depth))
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0,
                             1 if interlace else 0))
    if palette is not None:
        data += png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def generate(folder):
    """Writes the generated images; returns [(name, path, resize, crop, mean, std)]."""
    rng = np.random.RandomState(20240501)
    cases = []

    def add(name, path, resize=256, crop=224, norm=IMAGENET):
        cases.append((name, path, resize, crop, norm[0], norm[1]))

    def pil(name, array, mode, fmt, **options):
        path = os.path.join(folder, name)
        Image.fromarray(array, mode).save(path, fmt, **options)
        return path

    rgb = smooth_noise(rng, 203, 301, 3)
    add("rgb_odd", pil("rgb_odd.png", rgb, "RGB", "PNG"))
    add("grey8", pil("grey8.png", smooth_noise(rng, 250, 333, 1)[..., 0], "L", "PNG"))
    add("grey_alpha8", pil("grey_alpha8.png", smooth_noise(rng, 181, 257, 2), "LA", "PNG"))
    add("rgba8", pil("rgba8.png", smooth_noise(rng, 260, 199, 4), "RGBA", "PNG"))
    indices = smooth_noise(rng, 230, 240, 1)[..., 0]
    palette_image = Image.fromarray(indices, "L").convert("P")
    palette_image.putpalette(list(rng.randint(0, 256, 768).astype(np.uint8)))
    path = os.path.join(folder, "palette8.png")
    palette_image.save(path, "PNG", transparency=5)
    add("palette8", path)
    # Low bit depths, 16-bit samples and a short palette, written by hand.
    wide16 = lambda c: (smooth_noise(rng, 211, 277, c).astype(np.uint32) * 256 +
                        rng.randint(0, 256, (211, 277, c))).astype(np.uint32)
    for name, pixels, depth, ctype in (
            ("rgb16", wide16(3), 16, 2), ("rgba16", wide16(4), 16, 6),
            ("grey_alpha16", wide16(2), 16, 4),
            ("grey16", rng.choice([0, 1, 100, 254, 255, 256, 4000, 65535], (190, 300, 1)), 16, 0),
            ("grey16_low", rng.randint(0, 300, (190, 300, 1)), 16, 0),
            ("grey1", rng.randint(0, 2, (97, 300, 1)), 1, 0),
            ("grey2", rng.randint(0, 4, (97, 300, 1)), 2, 0),
            ("grey4", rng.randint(0, 16, (97, 300, 1)), 4, 0)):
        path = os.path.join(folder, name + ".png")
        write_png(path, pixels, depth, ctype)
        add(name, path)
    path = os.path.join(folder, "palette4_short.png")  # indices past the 9 colours
    write_png(path, rng.randint(0, 16, (150, 260, 1)), 4, 3,
              palette=rng.randint(0, 256, 27).astype(np.uint8), trns=b"\x00\x80")
    add("palette4_short", path)
    path = os.path.join(folder, "palette1.png")
    write_png(path, rng.randint(0, 2, (129, 257, 1)), 1, 3, palette=[255, 0, 0, 0, 0, 255])
    add("palette1", path)
    path = os.path.join(folder, "interlaced_rgb8.png")
    write_png(path, smooth_noise(rng, 237, 263, 3), 8, 2, interlace=True)
    add("interlaced_rgb8", path)
    path = os.path.join(folder, "interlaced_grey16.png")
    write_png(path, wide16(1)[:13, :11], 16, 0, interlace=True)
    add("interlaced_grey16_tiny", path)
    path = os.path.join(folder, "interlaced_rgb8_3x2.png")  # most Adam7 passes empty
    write_png(path, smooth_noise(rng, 2, 3, 3), 8, 2, interlace=True)
    add("interlaced_rgb8_3x2", path)

    # JPEGs: baseline 4:2:0 with odd sides, 4:4:4, progressive, grey, CMYK, EXIF.
    jrgb = smooth_noise(rng, 301, 403, 3)
    add("jpeg_420_odd", pil("jpeg_420_odd.jpg", jrgb, "RGB", "JPEG", quality=90))
    add("jpeg_444", pil("jpeg_444.jpg", jrgb, "RGB", "JPEG", quality=95, subsampling=0))
    add("jpeg_progressive", pil("jpeg_progressive.jpg", jrgb, "RGB", "JPEG", quality=85,
                                progressive=True))
    add("jpeg_grey", pil("jpeg_grey.jpg", smooth_noise(rng, 299, 257, 1)[..., 0], "L", "JPEG"))
    add("jpeg_cmyk", pil("jpeg_cmyk.jpg", smooth_noise(rng, 260, 300, 4), "CMYK", "JPEG",
                         quality=90))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90; PIL's open + convert ignores it
    add("jpeg_exif_rotated", pil("jpeg_exif_rotated.jpg", jrgb[:250, :330], "RGB", "JPEG",
                                 exif=exif.tobytes()))
    # A PNG named .jpg: the content decides.
    path = os.path.join(folder, "png_named.jpg")
    Image.fromarray(rgb[:240, :260], "RGB").save(path, "PNG")
    add("png_named_jpg", path)

    # Geometry: tiny, smaller than the crop, very wide / tall, identity resize,
    # half-way crop offsets (257 - 224 = 33, 259 - 224 = 35), a large downscale.
    for name, (h, w) in (("tiny_1x1", (1, 1)), ("tiny_1x7", (1, 7)), ("tiny_3x2", (3, 2)),
                         ("small_31x17", (17, 31)), ("wide_2000x40", (40, 2000)),
                         ("tall_30x1500", (1500, 30)), ("identity_256x300", (300, 256)),
                         ("offset_256x257", (257, 256)), ("offset_259x256", (256, 259)),
                         ("downscale_1600x1200", (1200, 1600)), ("square_500", (500, 500))):
        add(name, pil(name + ".png", smooth_noise(rng, h, w, 3), "RGB", "PNG"))
    # Resized image smaller than the crop: CenterCrop pads with zeros.
    small = pil("pad_source.png", smooth_noise(rng, 120, 90, 3), "RGB", "PNG")
    add("pad_both_r100", small, resize=100)
    add("pad_one_side_r200", small, resize=200)
    add("pad_odd_r33_c50", small, resize=33, crop=50)
    add("custom_norm_r300_c255", os.path.join(folder, "rgb_odd.png"), resize=300, crop=255,
        norm=((0.5, 0.25, 0.125), (0.5, 0.3, 0.7)))
    return cases


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, photos = sys.argv[1], sys.argv[2]
    images = os.path.join(out, "images")
    os.makedirs(images, exist_ok=True)
    cases = []
    # The photos through the classic transform, and through torchvision's own
    # transform of the IMAGENET1K_V2 weights (resize 232), which the exporter stores.
    v2 = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert v2.resize_size == [232] and v2.crop_size == [224], v2
    for photo in sorted(os.listdir(photos)):
        if photo.lower().endswith((".png", ".jpg", ".jpeg")):
            name, path = os.path.splitext(photo)[0], os.path.join(photos, photo)
            cases.append((name, path, 256, 224, IMAGENET[0], IMAGENET[1]))
            cases.append((name + "_imagenet1k_v2", path, v2.resize_size[0], v2.crop_size[0],
                          tuple(v2.mean), tuple(v2.std), v2))
    if not cases:
        print(f"reference.py: no photos in {photos}", file=sys.stderr)
        return 1
    cases += generate(images)
    with open(os.path.join(out, "manifest.txt"), "w") as manifest:
        for name, path, resize, crop, mean, std, *own in cases:
            image = Image.open(path).convert("RGB")
            with open(os.path.join(out, name + ".rgb"), "wb") as f:
                f.write(np.asarray(image, dtype=np.uint8).tobytes())
            pipeline = own[0] if own else transforms.Compose([
                transforms.Resize(resize), transforms.CenterCrop(crop), transforms.ToTensor(),
                transforms.Normalize(mean, std)])
            tensor = pipeline(image)
            assert tensor.dtype == torch.float32 and tuple(tensor.shape) == (3, crop, crop)
            np.save(os.path.join(out, name + ".npy"), tensor.numpy())
            fields = [name, path, str(image.width), str(image.height), str(resize), str(crop)]
            fields += [float(v).hex() for v in mean + std]
            manifest.write("\t".join(fields) + "\n")
    print(f"reference.py: {len(cases)} cases in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
