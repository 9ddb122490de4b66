#!/usr/bin/env python3
"""Wrap comment lines and split string literals so that no line passes LIMIT characters.

Biome's formatter breaks expressions but never comments or string literals; this does those two, line by
line: a comment is rewrapped, a literal is split at a space into two joined by `+` (the text is the same).
A line that starts inside a multi-line template literal is left alone (splitting it would change the text),
and so are JSX lines, JSX attributes and module names. Run by scripts/format-all.sh with the files to treat.
"""
import re, sys, textwrap
LIMIT = 120

def wrap_comment(line):
    m = re.match(r'^(\s*)(//+ ?|\* ?|/\*\* ?)(.*?)(\s*\*/)?\s*$', line)
    if not m: return None
    indent, marker, text, close = m.groups()
    if marker.startswith('/**'):
        if not close: # opening line of a block with text: keep marker, wrap the rest as ' * '
            first = indent + '/**'
            body = textwrap.wrap(text, LIMIT - len(indent) - 3, break_long_words=False, break_on_hyphens=False)
            return [first] + [indent + ' * ' + b for b in body]
        body = textwrap.wrap(text, LIMIT - len(indent) - 3, break_long_words=False, break_on_hyphens=False)
        return [indent + '/**'] + [indent + ' * ' + b for b in body] + [indent + ' */']
    prefix = indent + marker
    if marker.startswith('*') and not marker.endswith(' '): prefix += ' '
    width = LIMIT - len(prefix)
    body = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    out = [prefix + b for b in body]
    if close: out[-1] += close
    return out

def scan_template(line, i):
    """Index of the closing backtick of the template starting at i, or -1; handles ${} with nested literals."""
    n = len(line); j = i + 1
    while j < n:
        c = line[j]
        if c == '\\': j += 2; continue
        if c == '`': return j
        if c == '$' and j + 1 < n and line[j+1] == '{':
            j = scan_expr(line, j + 2)
            if j < 0: return -1
            j += 1; continue
        j += 1
    return -1

def scan_expr(line, j):
    """Index of the } closing an expression that starts at j, or -1."""
    n = len(line); depth = 0
    while j < n:
        c = line[j]
        if c in '"\'':
            k = j + 1
            while k < n and line[k] != c:
                k += 2 if line[k] == '\\' else 1
            if k >= n: return -1
            j = k + 1; continue
        if c == '`':
            k = scan_template(line, j)
            if k < 0: return -1
            j = k + 1; continue
        if c in '({[': depth += 1
        elif c in ')]': depth -= 1
        elif c == '}':
            if depth == 0: return j
            depth -= 1
        j += 1
    return -1

def string_spans(line):
    """(start, end, quote) of string literals on the line, end inclusive of the closing quote."""
    spans = []; i = 0; n = len(line)
    while i < n:
        c = line[i]
        if c == '/' and i + 1 < n and line[i+1] == '/': break
        if c == '`':
            j = scan_template(line, i)
            if j < 0: return spans
            spans.append((i, j, c)); i = j + 1; continue
        if c in '"\'':
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == '\\' else 1
            if j >= n: return spans
            spans.append((i, j, c)); i = j + 1; continue
        i += 1
    return spans

def splittable(line, start):
    """Whether the literal at `start` is an expression: not a JSX attribute (`name="…"`), a module name or a
    tagged template (String.raw`…` cut in two would lose its tag on the second half)."""
    before = line[:start].rstrip()
    if line[:start].endswith('='): return False
    if line[start] == '`' and re.search(r'[\w$.)\]]$', line[:start]): return False
    return not re.search(r'(\bfrom|\bimport|\brequire\(|\bimport\()$', before)

def split_string(line):
    spans = [s for s in string_spans(line) if s[1] - s[0] > 20 and splittable(line, s[0])]
    if not spans: return None
    # split the literal that crosses the limit, or the longest one
    crossing = [s for s in spans if s[0] < LIMIT - 10 and s[1] >= LIMIT]
    start, end, q = (crossing or sorted(spans, key=lambda s: s[1]-s[0]))[-1]
    target = min(LIMIT - 4, end - 1)
    # find a space at depth 0 between start+10 and target
    best = None; j = start + 1
    while j < end:
        if q == '`' and line[j] == '\\': j += 2; continue
        if q == '`' and line[j] == '$' and line[j+1:j+2] == '{':
            j = scan_expr(line, j + 2) + 1; continue
        if line[j] == ' ' and j > start + 10 and j <= target and line[j-1] != '\\': best = j
        j += 1
    if best is None: return None
    indent = re.match(r'^\s*', line).group(0)
    a = line[:best+1] + q + ' +'
    b = indent + '  ' + q + line[best+1:]
    return [a, b]

# What may come before a `/` that starts a regular expression rather than a division.
REGEX_AFTER = set('(,=:[!&|?{};+-*%>~^')  # not `<`: JSX's `</Text>`
REGEX_AFTER_WORDS = ('return', 'typeof', 'case', 'of', 'in', 'void', 'yield', 'await', 'delete')

def line_starts(text):
    """For each line: 'code', 'comment' (inside /* */) or 'template' (inside a multi-line template literal)."""
    states = ['code']
    stack = []  # open constructs: '`' a template's text, '{' a brace in code (inside ${} or not)
    mode = 'code'; i = 0; n = len(text); last = ''  # last: the previous significant character in code
    while i < n:
        c = text[i]
        if c == '\n':
            states.append('comment' if mode == 'block' else 'template' if stack and stack[-1] == '`' else 'code')
            i += 1; continue
        if mode == 'block':
            if text.startswith('*/', i): mode = 'code'; i += 2
            else: i += 1
            continue
        if stack and stack[-1] == '`':  # template text
            if c == '\\': i += 1 if text[i + 1:i + 2] == '\n' else 2; continue  # a newline still counts
            if c == '`': stack.pop(); last = '`'; i += 1; continue
            if text.startswith('${', i): stack.append('${'); last = '{'; i += 2; continue
            i += 1; continue
        # code
        if text.startswith('//', i):
            while i < n and text[i] != '\n': i += 1
            continue
        if text.startswith('/*', i): mode = 'block'; i += 2; continue
        if c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' and text[j + 1:j + 2] != '\n' else 1
            i = j + 1 if j < n and text[j] == c else j; last = c; continue
        if c == '`': stack.append('`'); i += 1; continue
        if c == '{': stack.append('{'); last = c; i += 1; continue
        if c == '}':
            if stack: stack.pop()
            last = c; i += 1; continue
        if c == '/':
            word = re.search(r'(\w+)\s*$', text[max(0, i - 12):i])
            if last == '' or last in REGEX_AFTER or (word and word.group(1) in REGEX_AFTER_WORDS and last.isalnum()):
                j = i + 1; in_class = False
                while j < n and text[j] != '\n':
                    if text[j] == '\\': j += 2; continue
                    if text[j] == '[': in_class = True
                    elif text[j] == ']': in_class = False
                    elif text[j] == '/' and not in_class: break
                    j += 1
                i = j + 1 if j < n and text[j] == '/' else j; last = '/'; continue
        if not c.isspace(): last = c
        i += 1
    return states

def process(path):
    text = open(path).read()
    lines = text.split('\n'); out = []; changed = False
    starts = line_starts(text)
    if len(starts) != len(lines):  # the scan lost its way: better leave the file as it is
        print(f'{path}: not wrapped (could not follow its literals)', file=sys.stderr)
        return False
    for number, line in enumerate(lines):
        if len(line) <= LIMIT or starts[number] == 'template':
            out.append(line); continue
        s = line.strip()
        new = None
        if starts[number] == 'comment' or s.startswith('//') or s.startswith('/**'):
            if s.startswith('//') or s.startswith('* ') or s.startswith('/**') or s == '*':
                new = wrap_comment(line)
        elif not s.startswith('<'):
            new = split_string(line)
        if new: out.extend(new); changed = True
        else: out.append(line)
    if changed: open(path, 'w').write('\n'.join(out))
    return changed

for p in sys.argv[1:]:
    process(p)
