# The real codebases the benchmarks read (sourced by scripts/bench-index.sh and
# scripts/bench.sh; BENCHMARKS.md, "Codebase index" and "Graph context"): Django 5.2.8 (its
# sdist from PyPI, sha256-checked, the `django` package only) and CPython 3.11's standard
# library (pyenv's 3.11). Downloads are cached under AGNUS_BENCH_CACHE (~/.cache/agnus-bench).
# Sets cache, django_version, django_pkg (the directory holding `django/`), stdlib,
# stdlib_version, python311; exports AGNUS_BENCH_DJANGO and AGNUS_BENCH_STDLIB (benches/graph.rs).
cache="${AGNUS_BENCH_CACHE:-$HOME/.cache/agnus-bench}"
mkdir -p "$cache/dl" "$cache/src" "$cache/lists"

django_version=5.2.8
django_sha256=23254866a5bb9a2cfa6004e8b809ec6246eba4b58a7589bc2772f1bcc8456c7f
python311="${AGNUS_BENCH_PYTHON311:-python3.11}"

echo "==> sources (Django $django_version from PyPI, CPython 3.11 stdlib)" >&2
tarball="$cache/dl/django-$django_version.tar.gz"
if [[ ! -f "$tarball" ]]; then
  python3 -m pip download -q --no-deps --no-binary :all: "django==$django_version" -d "$cache/dl"
fi
echo "$django_sha256  $tarball" | sha256sum -c --quiet -
django_pkg="$cache/src/django-$django_version-pkg"
if [[ ! -f "$django_pkg/django/__init__.py" ]]; then
  rm -rf "$django_pkg" && mkdir -p "$django_pkg"
  tar xzf "$tarball" -C "$django_pkg" --strip-components=1 "django-$django_version/django"
fi
stdlib=$("$python311" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
stdlib_version=$("$python311" -c 'import platform; print(platform.python_version())')
export AGNUS_BENCH_DJANGO="$django_pkg" AGNUS_BENCH_STDLIB="$stdlib"
