"""Each image's inputs and context: a second `up` rebuilds an image only when its own inputs change.

The provider-side half is `provider_context_digest`, which hashes a context the way pulumi-docker
4.x's `hashContext` does (relative path, full mode string, content digest of every file:
https://github.com/pulumi/pulumi-docker/blob/v4.11.2/provider/provider.go). Equal digests and
equal resource inputs mean no diff, so no build and no push.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from components.image_inputs import (
    CONTEXTS_DIR,
    assemble,
    copied_sources,
    image_inputs,
    inputs_digest,
)
from tests.infra.app_helpers import container_definitions_of
from tests.infra.harness import ROOT, StackRun, only, run_stack

RAKE_APP = PurePosixPath("services/rake_app")
IMAGE = "docker:index/image:Image"


def provider_context_digest(context: Path) -> str:
    """What pulumi-docker's Check stores as `build.contextDigest` for this context, in effect."""
    entries = sorted(
        (
            path.relative_to(context).as_posix(),
            stat.filemode(path.stat().st_mode),
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in context.rglob("*")
        if path.is_file()
    )
    return hashlib.sha256(repr(entries).encode()).hexdigest()


def copy_project(destination: Path) -> Path:
    """The files the program reads relative to the project directory: `services/`."""
    shutil.copytree(
        ROOT / "services",
        destination / "services",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store"),
    )
    return destination


def run_in(project: Path, stack: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> StackRun:
    # Pulumi runs the program (and the provider resolves relative paths) from the project directory.
    with monkeypatch.context() as patch:
        patch.chdir(project)
        return run_stack(stack, **kwargs)


def rake_image(run: StackRun) -> dict[str, Any]:
    return only(run.resources, IMAGE).inputs


def context_digest(project: Path, run: StackRun) -> str:
    """The provider's digest of the context the run's rake-app image builds from."""
    return provider_context_digest(project / rake_image(run)["build"]["context"])


def test_copied_sources_are_the_copy_paths_of_the_build_context() -> None:
    dockerfile = (ROOT / RAKE_APP / "Dockerfile").read_text()
    assert copied_sources(dockerfile) == [
        PurePosixPath("rake_app/requirements.txt"),
        PurePosixPath("common"),
        PurePosixPath("rake_app"),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("ADD app.tar.gz /app/", "Dockerfile: use COPY, not ADD: 'ADD app.tar.gz /app/'"),
        ("COPY *.py /app/", "Dockerfile: expected `COPY <path>... <dest>` with plain paths: "),
        ('COPY ["a", "/b"]', "Dockerfile: expected `COPY <path>... <dest>` with plain paths: "),
        ("COPY ../secrets /app/", "Dockerfile: COPY source outside the context: '../secrets'"),
        ("COPY . /app/", "Dockerfile: COPY source outside the context: '.'"),
    ],
)
def test_copied_sources_refuses_what_it_cannot_follow(line: str, problem: str) -> None:
    with pytest.raises(ValueError) as exc_info:
        copied_sources(f"FROM base\n{line}\n")
    assert str(exc_info.value).startswith(problem)


def test_copied_sources_skips_copies_from_other_stages_and_joins_continuations() -> None:
    dockerfile = "FROM b AS s\nCOPY --from=s /opt /opt\nCOPY --chown=1:1 \\\n  a.txt b/ /x/\n"
    assert copied_sources(dockerfile) == [PurePosixPath("a.txt"), PurePosixPath("b")]


def test_rake_app_inputs_are_its_dockerfile_package_common_and_lock_and_nothing_else() -> None:
    inputs = image_inputs(ROOT, RAKE_APP)
    tracked = sorted(
        path.relative_to(ROOT / "services").as_posix()
        for folder in ("common", "rake_app")
        for path in (ROOT / "services" / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    assert sorted(map(str, inputs)) == sorted(
        ["Dockerfile", *(p for p in tracked if p != "rake_app/Dockerfile")]
    )
    assert inputs[PurePosixPath("Dockerfile")] == ROOT / RAKE_APP / "Dockerfile"
    assert "rake_app/requirements.txt" in tracked


def test_a_missing_dockerfile_or_copy_source_is_named(tmp_path: Path) -> None:
    (tmp_path / "services/app").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"^services/app: no Dockerfile in this directory$"):
        image_inputs(tmp_path, PurePosixPath("services/app"))
    (tmp_path / "services/app/Dockerfile").write_text("FROM b\nCOPY app/gone.txt /x\n")
    with pytest.raises(
        ValueError, match=r"^services/app/Dockerfile: COPY source app/gone.txt does not exist$"
    ):
        image_inputs(tmp_path, PurePosixPath("services/app"))


def test_digest_counts_content_and_the_exec_bit_only(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    script = project / "services/rake_app/rake.py"

    def digest() -> str:
        return inputs_digest(image_inputs(project, RAKE_APP))

    before = digest()
    script.chmod(0o664)
    (project / "services/common/.DS_Store").write_bytes(b"\0junk")
    (project / "services/rake_app/__pycache__").mkdir()
    (project / "services/rake_app/__pycache__/rake.cpython-311.pyc").write_bytes(b"\0")
    (project / "services/rake_app/notes.txt~").write_text("editor backup")
    assert digest() == before
    script.chmod(0o775)
    with_exec = digest()
    script.chmod(0o644)
    script.write_text(script.read_text() + "\n")
    assert len({before, with_exec, digest()}) == 3


def test_assemble_normalises_modes_reuses_by_content_and_removes_stale_contexts(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path)
    old_umask = os.umask(0o002)  # a laptop's umask: new files 664, directories 775
    try:
        first = assemble(project, "rake-app", str(RAKE_APP))
    finally:
        os.umask(old_umask)
    directory = project / first.directory
    assert first.directory == CONTEXTS_DIR / f"rake-app-{first.short_digest}"
    assert first.dockerfile == first.directory / "Dockerfile"
    modes = {oct(p.stat().st_mode & 0o777) for p in [directory, *directory.rglob("*")]}
    assert modes == {"0o644", "0o755"}
    assert (directory / "rake_app/Dockerfile").exists() is False

    (directory / "rake_app/app.py").chmod(0o600)  # a hand-made change is repaired
    assert assemble(project, "rake-app", str(RAKE_APP)) == first
    assert oct((directory / "rake_app/app.py").stat().st_mode & 0o777) == "0o644"

    (project / "services/rake_app/app.py").write_text("# changed\n")
    second = assemble(project, "rake-app", str(RAKE_APP))
    assert second.short_digest != first.short_digest
    assert sorted(p.name for p in (project / CONTEXTS_DIR).iterdir()) == [
        f"rake-app-{second.short_digest}"
    ]


def test_modes_junk_and_other_services_leave_the_vendor_image_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop, ci = copy_project(tmp_path / "laptop"), copy_project(tmp_path / "ci")
    for path in (laptop / "services").rglob("*"):
        path.chmod(0o775 if path.is_dir() or path.stat().st_mode & 0o100 else 0o664)
    (laptop / "services/rake_app/.DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (laptop / "services/common/.DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (laptop / "services/nlp_client/app.py").write_text("# another service's edit\n")

    runs = [run_in(project, "vendor", monkeypatch) for project in (laptop, ci)]

    assert rake_image(runs[0]) == rake_image(runs[1])
    assert context_digest(laptop, runs[0]) == context_digest(ci, runs[1])


def test_an_edit_to_rake_app_changes_its_tag_and_the_customer_task_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after = copy_project(tmp_path / "before"), copy_project(tmp_path / "after")
    rake = after / "services/rake_app/rake.py"
    rake.write_text(rake.read_text() + "\n# a fix\n")

    vendors = [run_in(p, "vendor", monkeypatch) for p in (before, after)]
    customers = [
        run_in(p, "customer", monkeypatch, vendor_outputs=v.exports)
        for p, v in zip((before, after), vendors, strict=True)
    ]

    tags = [rake_image(run)["imageName"].rsplit(":", 1)[1] for run in vendors]
    assert [tag.startswith("1.1.0-") and len(tag) == len("1.1.0-") + 12 for tag in tags] == [
        True,
        True,
    ]
    assert tags[0] != tags[1]
    assert context_digest(before, vendors[0]) != context_digest(after, vendors[1])
    images = [{c["name"]: c["image"] for c in container_definitions_of(run)} for run in customers]
    assert [i["rake-app"] for i in images] == [v.exports["rake_app_image_uri"] for v in vendors]
    assert images[0]["rake-app"] != images[1]["rake-app"]
    # The customer's own images did not move.
    assert [i["nlp-client"] for i in images[1:]] == [images[0]["nlp-client"]]
    assert [i["prose-app"] for i in images[1:]] == [images[0]["prose-app"]]
