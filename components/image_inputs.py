"""An image's build context: exactly the files its Dockerfile copies, assembled by content.

pulumi-docker 4.x decides a rebuild from a digest of every file of the build context, each with
its full mode string (`hashContext` in
https://github.com/pulumi/pulumi-docker/blob/v4.11.2/provider/provider.go), and any change to it
builds and pushes again under the same `imageName`. With `services/` as the shared context, an
edit in another service, a checkout with another umask or a stray `.DS_Store` did that, and ECR
refuses a second push to an immutable tag. So each image gets its own context:

- its inputs are its Dockerfile (at the context's root) and what its `COPY` instructions name
  (for ours `common/` and the package with its `requirements.txt`), without junk files
  (`JUNK`) and without the package's own `Dockerfile`;
- they are copied under `.build/images/<name>-<12 hex>/` with modes 0644 or, where the source has
  an exec bit, 0755, so the provider's digest depends on content and exec bits only;
- the digest of those inputs (`BuildContext.digest`) names the directory and goes into the image
  tag: unchanged inputs give the same inputs to the provider, changed ones a new tag.

The layout inside is the one the Dockerfile expects from `services/` (`common/`, `rake_app/`), so
the same Dockerfile also builds from `services/` (compose) and with the classic builder.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Where contexts are assembled, relative to the project (git-ignored).
CONTEXTS_DIR = PurePosixPath(".build/images")
# Files that never count and never enter an image: OS and editor droppings, bytecode, tool caches.
JUNK = (
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    "__pycache__",
    "*.py[cod]",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "*.swp",
    "*~",
)
DOCKERFILE = "Dockerfile"
_FILE_MODE = 0o644
_EXEC_MODE = 0o755
_HASH_CHARS = 12


@dataclass(frozen=True, kw_only=True)
class BuildContext:
    """One image's assembled context, paths relative to the project root."""

    directory: PurePosixPath
    dockerfile: PurePosixPath
    # sha256 (hex) of the inputs: each path, exec bit and content digest.
    digest: str

    @property
    def short_digest(self) -> str:
        """The 12 hex digits that name the directory and suffix the image tag."""
        return self.digest[:_HASH_CHARS]


def copied_sources(dockerfile: str) -> list[PurePosixPath]:
    """The context paths a Dockerfile's `COPY` instructions read (not `COPY --from=<stage>`).

    Raises ValueError for what this module cannot follow: `ADD`, wildcards, JSON-form `COPY`,
    paths outside the context.
    """
    sources: list[PurePosixPath] = []
    for line in re.sub(r"\\\n", " ", dockerfile).splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "ADD":
            raise ValueError(f"Dockerfile: use COPY, not ADD: {line.strip()!r}")
        if instruction != "COPY":
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from=") for word in words[1:]):
            continue
        if (
            len(arguments) < 2
            or arguments[0].startswith("[")
            or any(char in word for word in arguments[:-1] for char in "*?[")
        ):
            raise ValueError(
                f"Dockerfile: expected `COPY <path>... <dest>` with plain paths: {line.strip()!r}"
            )
        for word in arguments[:-1]:
            path = PurePosixPath(os.path.normpath(word))
            if path.is_absolute() or path.parts[:1] == ("..",) or str(path) == ".":
                raise ValueError(f"Dockerfile: COPY source outside the context: {word!r}")
            sources.append(path)
    return sources


def _is_junk(relative: PurePosixPath) -> bool:
    return any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts for pattern in JUNK)


def image_inputs(root: Path, source: PurePosixPath) -> dict[PurePosixPath, Path]:
    """The image's inputs: path in its context -> file. `source` is the Dockerfile's directory
    relative to `root`; its parent is the context the `COPY` paths are relative to."""
    dockerfile = root / source / DOCKERFILE
    if not dockerfile.is_file():
        raise ValueError(f"{source}: no {DOCKERFILE} in this directory")
    context = root / source.parent
    own_dockerfile = PurePosixPath(source.name, DOCKERFILE)
    inputs = {PurePosixPath(DOCKERFILE): dockerfile}
    for copied in copied_sources(dockerfile.read_text()):
        path = context / copied
        if path.is_file():
            files = [copied]
        elif path.is_dir():
            files = [
                PurePosixPath(found.relative_to(context).as_posix())
                for found in path.rglob("*")
                if found.is_file()
            ]
        else:
            raise ValueError(f"{source}/{DOCKERFILE}: COPY source {copied} does not exist")
        for relative in files:
            if not _is_junk(relative) and relative != own_dockerfile:
                inputs[relative] = context / relative
    return inputs


def _mode(path: Path) -> int:
    return _EXEC_MODE if path.stat().st_mode & 0o111 else _FILE_MODE


def inputs_digest(inputs: dict[PurePosixPath, Path]) -> str:
    """sha256 over each input's path, normalised mode and content digest, in path order."""
    entries = [
        [str(relative), oct(_mode(path)), hashlib.sha256(path.read_bytes()).hexdigest()]
        for relative, path in sorted(inputs.items())
    ]
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def _copy_into(directory: Path, inputs: dict[PurePosixPath, Path]) -> None:
    for relative, path in inputs.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(_mode(path))
    for folder in [directory, *(p for p in directory.rglob("*") if p.is_dir())]:
        folder.chmod(_EXEC_MODE)  # mkdir's mode is masked by the umask


def assemble(root: Path, name: str, source: str) -> BuildContext:
    """Assemble image `name`'s context from `root/source` under `root/.build/images/`.

    Content-addressed: an existing directory with the same digest is reused as it is (checked,
    so a hand-edited one is rebuilt); another digest's directory of the same image is removed.
    """
    inputs = image_inputs(root, PurePosixPath(source))
    digest = inputs_digest(inputs)
    relative = CONTEXTS_DIR / f"{name}-{digest[:_HASH_CHARS]}"
    contexts, directory = root / CONTEXTS_DIR, root / relative
    contexts.mkdir(parents=True, exist_ok=True)
    if not _is_assembled(directory, digest):
        # Built aside and renamed into place: a concurrent run never sees half a context.
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=contexts))
        _copy_into(staging, inputs)
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    for stale in contexts.glob(f"{name}-*"):
        if stale != directory and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{12}}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    return BuildContext(directory=relative, dockerfile=relative / DOCKERFILE, digest=digest)


def _is_assembled(directory: Path, digest: str) -> bool:
    # The provider hashes exact modes, so a file chmod-ed by hand counts as a change too.
    if not directory.is_dir():
        return False
    files = [path for path in directory.rglob("*") if path.is_file()]
    exact = all(path.stat().st_mode & 0o7777 == _mode(path) for path in files)
    relative = {PurePosixPath(path.relative_to(directory).as_posix()): path for path in files}
    return exact and inputs_digest(relative) == digest
