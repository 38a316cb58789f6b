// Reading a receipt from an uploaded file: a QR image (PNG, JPEG, …), the
// binary form (starts with `CLRC`) or the text form.
//
// QR codes are decoded by jsQR (vendored, ../vendor/README.md), loaded on
// first use. The browser's BarcodeDetector is not used: it is missing from
// Chromium on Linux and Windows and from Firefox, and it returns the
// code's content as text, which loses the bytes of a binary QR code, the
// form `cityledger receipt --qr` writes.

/** Largest image side decoded, in pixels: bounds the memory and time. */
const IMAGE_SIDE_MAX = 4096;
/** Largest file read, in bytes: a receipt's text is far smaller. */
export const RECEIPT_FILE_BYTES_MAX = 8 * 1024 * 1024;

/** @type {Promise<JsQr> | null} */
let jsQrLoading = null;

/**
 * @typedef {(data: Uint8ClampedArray, width: number, height: number) =>
 *   ({binaryData: number[], data: string} | null)} JsQr
 */

/** @returns {Promise<JsQr>} */
function loadJsQr() {
  jsQrLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/ui/vendor/jsQR.js';
    script.onload = () => {
      const decoder = /** @type {any} */ (window).jsQR;
      if (typeof decoder === 'function') resolve(decoder);
      else reject(new Error('the QR decoder did not load'));
    };
    script.onerror = () => {
      jsQrLoading = null;
      reject(new Error('the QR decoder could not be loaded'));
    };
    document.head.append(script);
  });
  return jsQrLoading;
}

/**
 * The receipt in `file`: its bytes (binary form, or the text form as
 * UTF-8), ready for the verifier.
 * @param {File} file
 * @returns {Promise<Uint8Array>}
 */
export async function receiptFromFile(file) {
  if (file.size > RECEIPT_FILE_BYTES_MAX) {
    throw new Error(`the file is ${file.size} bytes, above the limit of ${RECEIPT_FILE_BYTES_MAX}`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isImage = file.type.startsWith('image/') || isPng(bytes) || isJpeg(bytes);
  if (!isImage) return trimText(bytes);
  return decodeQr(file);
}

/**
 * The bytes held by the QR code in an image file.
 * @param {File} file
 * @returns {Promise<Uint8Array>}
 */
async function decodeQr(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('the file is not an image this browser can read');
  }
  const scale = Math.min(1, IMAGE_SIDE_MAX / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser cannot read images');
  // A white background: a transparent PNG would otherwise read as black.
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const pixels = context.getImageData(0, 0, width, height);
  const jsQR = await loadJsQr();
  const code = jsQR(pixels.data, width, height);
  if (!code) throw new Error('no QR code was found in the image');
  return Uint8Array.from(code.binaryData);
}

/** @param {Uint8Array} bytes */
function isPng(bytes) {
  return bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/** @param {Uint8Array} bytes */
function isJpeg(bytes) {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Text without surrounding whitespace (a file saved by an editor ends in a
 * newline); binary receipts are returned as they are.
 * @param {Uint8Array} bytes
 */
function trimText(bytes) {
  const magic = [0x43, 0x4c, 0x52, 0x43]; // CLRC
  if (magic.every((byte, index) => bytes[index] === byte)) return bytes;
  return new TextEncoder().encode(new TextDecoder().decode(bytes).trim());
}
