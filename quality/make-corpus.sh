#!/bin/sh
# Regenerates the quality corpus (quality/corpus/*.pdf) from freely licensed sources installed
# by Debian packages; see SOURCES.md for origin and licence of each document.
#   apt-get install python3-doc chromium groff ghostscript enscript base-files
# The PDFs are committed: `make quality` does not run this script.
set -eu
cd "$(dirname "$0")"
out=corpus
mkdir -p "$out"
export SOURCE_DATE_EPOCH=0
html=/usr/share/doc/python3-doc/html
print() { # chromium prints one HTML page to PDF
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-pdf-header-footer --print-to-pdf="$2" "file://$1" 2>/dev/null
}
# Python tutorial chapters (prose, code examples, error names, interactive sessions).
print "$html/tutorial/classes.html" "$out/python-tutorial-classes.pdf"
print "$html/tutorial/errors.html" "$out/python-tutorial-errors.pdf"
print "$html/tutorial/controlflow.html" "$out/python-tutorial-controlflow.pdf"
# The "History and License" page: licence text that questions must not come from.
print "$html/license.html" "$out/python-license.pdf"
# A long manual (the bash man page, about 90 pages, typeset by groff) for the timing measurement.
zcat /usr/share/man/man1/bash.1.gz | groff -man -Tpdf > "$out/bash-manpage.pdf"
# A man page typeset by groff (running headers and footers on every page, hyphenation).
zcat /usr/share/man/man1/groff.1.gz | groff -man -Tpdf -dpaper=a4 -P-pa4 > "$out/groff-manpage.pdf"
# A plain-text lecture set in Times by enscript + ps2pdf, with the GNU FDL appended as it is
# in many freely licensed manuals.
{ cat ../generator/tests/fixtures/lecture.txt; printf '\n\nAppendix: GNU Free Documentation License\n\n'; cat /usr/share/common-licenses/GFDL-1.3; } \
    | enscript --quiet --header='A Short History of Computing|Lecture 3|Page $%' --word-wrap --font=Times-Roman11 --margins=60:60:50:50 --output=- \
    | ps2pdf - "$out/lecture-with-gfdl.pdf"
ls -l "$out"
