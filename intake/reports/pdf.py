"""The physician PDF: a reportlab platypus rendering of a ``Summary`` (questionnaire.md §6).

Patient text reaches reportlab's Paragraph markup parser only through ``text()``, which
escapes it; no patient text is ever put in a tag attribute or a table cell that cannot
split across pages.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from xml.sax.saxutils import escape  # nosec B406 # it writes entities and parses nothing

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from intake.reports import chart
from intake.reports.drawing import body_map
from intake.reports.fonts import FONT, FONT_BOLD, register_fonts
from intake.reports.summary import Fact, Summary
from intake.workflow import ROUTING

PAGE_WIDTH, PAGE_HEIGHT = LETTER
MARGIN = 16 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
#: A value longer than this, or holding a line break, flows below its label.
LONG_TEXT = 600
#: Room a heading needs below it on the page, or it starts the next one.
HEADING_ROOM = {"h1": 80, "h2": 45}
#: Lines of typed text per paragraph, so a 5 000-line answer splits cheaply.
CHUNK_LINES = 40
#: Each header fact's share of the line; a questionnaire asking fewer leaves room.
HEADER_WIDTHS = {"Date of birth": 0.13, "Age": 0.07, "Sex at birth": 0.12, "Phone": 0.18,
                 "Reference": 0.17, "Submitted": 0.33}

INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#595959")
MUTED_MARKUP = MUTED.hexval().replace("0x", "#")  # as a Paragraph's <font color> names it
RULE = colors.HexColor("#b3b3b3")
SHADE = colors.HexColor("#f2f2f2")
#: Per tier: badge fill, badge text, row tint. Dark, mid and outline stay apart in grey.
TIER_STYLE = {
    "urgent": (colors.HexColor("#9b1c1c"), colors.white, colors.HexColor("#fbeaea")),
    "hold": (colors.HexColor("#f0b541"), INK, colors.HexColor("#fff6e3")),
    "review": (colors.white, INK, colors.white),
}


def text(value: str) -> str:
    """Any string as inert Paragraph markup: escaped, its line breaks kept as <br/>."""
    return escape(value).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, textColor=INK)

    def style(name: str, **changes: object) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, **changes)

    return {
        "body": base,
        "clinic": style("clinic", fontName=FONT_BOLD, fontSize=10, textColor=MUTED),
        "name": style("name", fontName=FONT_BOLD, fontSize=17, leading=21, spaceBefore=2),
        "label": style("label", fontSize=7.5, leading=9, textColor=MUTED),
        "value": style("value", fontSize=10, leading=12.5),
        "fact_label": style("fact_label", fontSize=7.5, leading=9, textColor=MUTED,
                            spaceBefore=5),
        "routing": style("routing", fontName=FONT_BOLD, fontSize=12.5, leading=16),
        "disclaimer": style("disclaimer", fontSize=8.5, leading=11),
        "h1": style("h1", fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=10,
                    spaceAfter=4),
        "h2": style("h2", fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceBefore=7,
                    spaceAfter=2),
        "badge": style("badge", fontName=FONT_BOLD, fontSize=8, leading=10, alignment=1),
        "title": style("title", fontName=FONT_BOLD, fontSize=9.5, leading=12),
        "small": style("small", fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": style("cell", fontSize=8.5, leading=10.5),
        "category": style("category", fontName=FONT_BOLD, fontSize=8.5, leading=10.5,
                          spaceBefore=4),
        "cell_bold": style("cell_bold", fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
        "typed": style("typed", fontSize=8.5, leading=10.5, leftIndent=6 * mm),
        "box": style("box", fontSize=9, leading=12, leftIndent=14, bulletIndent=0,
                     bulletFontName=FONT, bulletFontSize=11, spaceBefore=2),
    }


class _Document:
    """The story of one summary: each section a method, in the order of §6; a section
    the summary has nothing for is left out."""

    def __init__(self, summary: Summary):
        self.summary = summary
        self.s = _styles()

    def p(self, value: str, style: str = "body") -> Paragraph:
        return Paragraph(text(value), self.s[style])

    def heading(self, value: str, level: str) -> Iterator[Flowable]:
        """A heading that starts a new page rather than end one."""
        yield CondPageBreak(HEADING_ROOM[level])
        yield self.p(value, level)

    def box(self, value: str) -> Paragraph:
        """A line of the examination checklist with an empty box to tick."""
        return Paragraph(text(value), self.s["box"], bulletText="☐")

    def story(self) -> list[Flowable]:
        return [
            *self.header(), *self.flags(), *self.outcomes(), *self.course(), *self.glance(),
            *self.indicators(),
            *self.instruments(), *self.pain(), *self.treatments(), *self.medicines(),
            *self.examination(), *self.answers(), *self.actions(), *self.computed(),
        ]

    # --- page 1 ---------------------------------------------------------------------

    def header(self) -> Iterator[Flowable]:
        summary = self.summary
        yield self.p(summary.clinic_name, "clinic")
        yield self.p(summary.patient_name, "name")
        facts = [*summary.patient, Fact("Reference", summary.reference),
                 Fact("Submitted", summary.submitted_at)]
        yield Table(
            [[self.p(f.label, "label") for f in facts], [self.p(f.value, "value") for f in facts]],
            colWidths=[HEADER_WIDTHS[f.label] * FRAME_WIDTH for f in facts],
            style=[("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                   ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                   ("VALIGN", (0, 0), (-1, -1), "TOP")],
            hAlign="LEFT", spaceBefore=4,
        )
        if summary.language_note:
            note = summary.language_note
            yield self.p(f"{note[0].upper()}{note[1:]}.", "title")
        routing_word = ROUTING.get(summary.routing)
        fill, ink, _ = TIER_STYLE[routing_word.tier if routing_word else "review"]
        routing = ParagraphStyle("routing_ink", parent=self.s["routing"], textColor=ink)
        meaning = f" — {summary.routing_meaning}" if summary.routing_meaning else ""
        yield Table(
            [[Paragraph(f"Routing: {text(summary.routing)}<font name='{FONT}' size='10'>"
                        f"{text(meaning)}</font>", routing)]],
            colWidths=[FRAME_WIDTH], spaceBefore=8,
            style=[("BACKGROUND", (0, 0), (-1, -1), fill if fill != colors.white else SHADE),
                   ("BOX", (0, 0), (-1, -1), 1.2, INK),
                   ("LEFTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 6),
                   ("BOTTOMPADDING", (0, 0), (-1, -1), 7)],
        )
        yield Table(
            [[self.p(summary.disclaimer, "disclaimer")]], colWidths=[FRAME_WIDTH], spaceBefore=6,
            style=[("BOX", (0, 0), (-1, -1), 0.6, RULE), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                   ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)],
        )

    def flags(self) -> Iterator[Flowable]:
        summary = self.summary
        counts = [f"{sum(f.tier == tier for f in summary.flags)} {tier}"
                  for tier in TIER_STYLE if any(f.tier == tier for f in summary.flags)]
        yield from self.heading("Flags" + (f" ({', '.join(counts)})" if counts else ""), "h1")
        if not summary.flags:
            yield self.p("No flags raised.")
        for flag in summary.flags:
            fill, ink, tint = TIER_STYLE.get(flag.tier, TIER_STYLE["review"])
            badge = ParagraphStyle("badge_ink", parent=self.s["badge"], textColor=ink)
            content = [self.p(flag.title, "title")]
            content += [
                Paragraph(f"• {text(t.label)}{t.joiner}<b>{text(t.answer)}</b>", self.s["cell"])
                for t in flag.triggers
            ]
            if flag.also_reported:
                content.append(self.p("Also reported: " + "; ".join(
                    str(t) for t in flag.also_reported), "cell"))
            content.append(self.p(f"Source: {flag.tags}", "small"))
            yield Table(
                [[Paragraph(text(flag.tier.upper()), badge), content]],
                colWidths=[18 * mm, FRAME_WIDTH - 18 * mm], spaceBefore=3,
                style=[("BACKGROUND", (0, 0), (0, 0), fill), ("BACKGROUND", (1, 0), (1, 0), tint),
                       ("BOX", (0, 0), (-1, -1), 0.6, INK if flag.tier != "review" else RULE),
                       ("BOX", (0, 0), (0, 0), 0.6, INK),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)],
            )
        if summary.info:
            yield Spacer(1, 4)
            yield self.p("For information: " + "; ".join(summary.info) + ".", "body")

    def outcomes(self) -> Iterator[Flowable]:
        """A follow-up's outcomes against the baseline, laid out as the glance is."""
        yield from self.facts_table("Against the baseline", self.summary.outcomes)

    def course(self) -> Iterator[Flowable]:
        """A follow-up's course: the chart as vectors, then its table."""
        summary = self.summary
        if summary.course_chart is None:
            return
        yield KeepTogether([*self.heading("The course", "h1"),
                            chart.drawing(summary.course_chart, 0.85 * FRAME_WIDTH, FONT)])
        header = ("Date", "Submission", "Average pain", "PEG", "PHQ-9")
        yield Table(
            [[self.p(h, "label") for h in header],
             *([self.p(value, "cell") for value in row] for row in summary.course_table)],
            colWidths=[w * FRAME_WIDTH for w in (0.16, 0.42, 0.16, 0.13, 0.13)],
            repeatRows=1, style=_grid_style(header=True))

    def glance(self) -> Iterator[Flowable]:
        """At most ten short lines, tight, so that page 1 keeps the scores too."""
        yield from self.facts_table("At a glance", self.summary.glance)

    def facts_table(self, title: str, lines: tuple[Fact, ...]) -> Iterator[Flowable]:
        if lines:
            yield from self.heading(title, "h1")
            yield Table(
                [[self.p(f.label, "cell"), self.p(f.value, "cell_bold")] for f in lines],
                colWidths=[0.26 * FRAME_WIDTH, 0.74 * FRAME_WIDTH],
                style=[("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1),
                       ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                       ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE)])

    def indicators(self) -> Iterator[Flowable]:
        if not self.summary.indicators:
            return
        yield from self.heading("Indicators (self-reported)", "h1")
        rows = [[self.p(h, "label") for h in ("Indicator", "Result", "Source")]]
        for line in self.summary.indicators:
            result = text(line.value)
            if line.note:
                result += f" · <b>{text(line.note)}</b>" if line.supportive else (
                    f" · <font color='{MUTED_MARKUP}'>{text(line.note)}</font>")
            rows.append([self.p(line.name, "cell_bold"), Paragraph(result, self.s["cell"]),
                         self.p(line.tags, "small")])
        yield Table(
            rows, colWidths=[w * FRAME_WIDTH for w in (0.3, 0.58, 0.12)],
            repeatRows=1, style=_grid_style(),
        )
        if self.summary.trial_matches:
            yield Spacer(1, 3)
            yield self.p(self.summary.trial_matches, "body")

    def instruments(self) -> Iterator[Flowable]:
        if not self.summary.instruments:
            return
        yield from self.heading("Questionnaire scores", "h1")
        facts = self.summary.instruments
        width = FRAME_WIDTH / max(1, len(facts))
        yield Table(
            [[self.p(f.label, "cell_bold") for f in facts],
             [self.p(f.value, "cell") for f in facts]],
            colWidths=[width] * len(facts), style=_grid_style(header=False),
        )

    # --- the rest ---------------------------------------------------------------------

    def pain(self) -> Iterator[Flowable]:
        if not self.summary.pain:
            return
        map_width = 0.46 * FRAME_WIDTH
        drawing = body_map(self.summary.pain_regions, map_width, font_name=FONT)
        facts = [flowable for fact in self.summary.pain
                 for flowable in (self.p(fact.label, "fact_label"), self.p(fact.value, "cell"))]
        yield from self.heading("Pain", "h1")
        yield Table([[drawing, facts]], colWidths=[map_width + 6 * mm, None],
                    style=[("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0)])

    def treatments(self) -> Iterator[Flowable]:
        if not (self.summary.treatments or self.summary.prior_ketamine):
            return
        yield from self.heading("Treatments tried, with benefit", "h1")
        yield from self.facts(self.summary.treatments)
        if self.summary.prior_ketamine:
            yield from self.heading("Ketamine before", "h2")
            yield from self.facts(self.summary.prior_ketamine)

    def medicines(self) -> Iterator[Flowable]:
        if not (self.summary.medicines or self.summary.allergies):
            return
        yield from self.heading("Medicines and allergies", "h1")
        yield from self.facts([*self.summary.medicines, *self.summary.allergies])

    def examination(self) -> Iterator[Flowable]:
        summary = self.summary
        if not (summary.budapest_signs or summary.css_signs):
            return
        budapest: list[Flowable] = [self.p("Budapest signs, by category", "cell_bold")]
        for category, signs in summary.budapest_signs:
            budapest.append(self.p(category, "category"))
            budapest += [self.box(sign) for sign in signs]
        budapest += [Spacer(1, 14), self.p("Examined by ____________________________", "box"),
                     Spacer(1, 8), self.p("Date ______________", "box")]
        css = [self.p("CRPS Severity Score: examination signs", "cell_bold")]
        css += [self.box(sign) for sign in summary.css_signs]
        css.append(Spacer(1, 8))
        css += [self.box(check) for check in summary.clinician_checks]
        yield from self.heading("Examination: tick each sign found", "h1")
        yield Table([[budapest, css]], colWidths=[0.5 * FRAME_WIDTH] * 2,
                    style=[("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("LINEBEFORE", (1, 0), (1, 0), 0.5, RULE),
                           ("LEFTPADDING", (1, 0), (1, 0), 8)])

    def answers(self) -> Iterator[Flowable]:
        yield from self.heading("All answers, by step", "h1")
        yield self.p("Every question the patient was shown; — marks one left unanswered.",
                     "small")
        for step in self.summary.steps:
            yield from self.heading(step.title, "h2")
            yield from self.facts(
                [Fact(line.question, line.answer) for line in step.answers], answer_width=0.38,
            )

    def actions(self) -> Iterator[Flowable]:
        yield from self.heading("Staff actions", "h1")
        if not self.summary.actions:
            yield self.p("None recorded.")
            return
        rows = [[self.p(h, "label") for h in ("When", "Who", "What", "Reason")]]
        rows += [[self.p(a.when, "cell"), self.p(a.who, "cell"), self.p(a.what, "cell"),
                  self.p(a.reason, "cell")] for a in self.summary.actions]
        yield Table(rows, colWidths=[w * FRAME_WIDTH for w in (0.22, 0.2, 0.23, 0.35)],
                    repeatRows=1, splitInRow=1, style=_grid_style())

    def computed(self) -> Iterator[Flowable]:
        """The closing section: each result's rule in words and its source in full, then
        every reference a source tag names."""
        summary = self.summary
        yield from self.heading("How each result is computed", "h1")
        for title, rule, source in [*((f.title, f.rule, f.source) for f in summary.flags),
                                    *((i.name, i.rule, i.source) for i in summary.indicators)]:
            if rule:
                yield KeepTogether([self.p(title, "cell_bold"),
                                    self.p(f"Rule: {rule}", "small"),
                                    self.p(f"Source: {source}", "small"), Spacer(1, 3)])
        yield from self.heading("Sources", "h2")
        yield from self.facts(summary.references, answer_width=0.88)

    def facts(self, facts: Sequence[Fact], answer_width: float = 0.6) -> Iterator[Flowable]:
        """Label and value rows; a long typed value flows below its label instead."""
        label_width = (1 - answer_width) * FRAME_WIDTH
        label, value = self.s["cell"], self.s["cell_bold"]
        for fact in facts:
            if len(fact.value) <= LONG_TEXT and "\n" not in fact.value:
                yield _Row(fact.label, fact.value, label_width, label, value)
                continue
            yield _Row(fact.label, None, label_width, label, value)
            yield from (Paragraph(chunk, self.s["typed"]) for chunk in _chunks(fact.value))
            yield Spacer(1, 3)


class _Row(Flowable):
    """A label beside its value, ruled below: a table row that lays itself out once.

    A value that fits on one line is drawn as a plain string (no markup is parsed);
    anything longer becomes an escaped Paragraph.
    """

    PADDING = 3

    def __init__(self, label: str, value: str | None, label_width: float,
                 label_style: ParagraphStyle, value_style: ParagraphStyle):
        super().__init__()
        self.label_width = label_width
        self.cells = [(label, label_style, 0.0)]
        if value is not None:
            self.cells.append((value, value_style, label_width))
        self._laid_out: list[tuple[str, ParagraphStyle, float, Paragraph | None]] = []
        self._wrapped_for: float | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if self._wrapped_for != available_width:
            widths = [self.label_width, available_width - self.label_width]
            self._laid_out, heights = [], []
            for (content, style, x), width in zip(self.cells, widths, strict=False):
                width -= 2 * self.PADDING
                if "\t" not in content and (
                        stringWidth(content, style.fontName, style.fontSize) <= width):
                    paragraph, height = None, style.leading
                else:
                    paragraph = Paragraph(text(content), style)
                    height = paragraph.wrap(width, available_height)[1]
                self._laid_out.append((content, style, x, paragraph))
                heights.append(height)
            self.width, self.height = available_width, max(heights) + 2 * self.PADDING
            self._wrapped_for = available_width
        return self.width, self.height

    def draw(self) -> None:
        canvas, top = self.canv, self.height - self.PADDING
        for content, style, x, paragraph in self._laid_out:
            if paragraph is None:
                canvas.setFont(style.fontName, style.fontSize)
                canvas.setFillColor(style.textColor)
                canvas.drawString(x + self.PADDING, top - style.fontSize, content)
            else:
                paragraph.drawOn(canvas, x + self.PADDING, top - paragraph.height)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        canvas.line(0, 0, self.width, 0)


def _chunks(value: str) -> Iterator[str]:
    """Typed text as escaped markup, a few lines at a time."""
    lines = value.split("\n")
    for start in range(0, len(lines), CHUNK_LINES):
        yield text("\n".join(lines[start:start + CHUNK_LINES]))


def _grid_style(header: bool = True) -> TableStyle:
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("LINEBELOW", (0, 0), (-1, 0), 0.8, INK))
    return TableStyle(commands)


def _page_canvas(summary: Summary) -> type[Canvas]:
    """A canvas that defers footers until the page count is known ("Page x of y")."""

    class PagedCanvas(Canvas):
        def __init__(self, *args: object, **kwargs: object):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                _decorate(self, summary, number, len(self._pages))
                super().showPage()
            super().save()

    return PagedCanvas


def _decorate(canvas: Canvas, summary: Summary, number: int, total: int) -> None:
    """Every page: reference, page x of y, confidentiality; the last page: versions."""
    canvas.saveState()
    canvas.setFillColor(MUTED)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    if number > 1:
        canvas.setFont(FONT, 7.5)
        canvas.drawString(MARGIN, PAGE_HEIGHT - 10 * mm, summary.clinic_name)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 10 * mm,
                               f"{_shorten(summary.patient_name, FRAME_WIDTH / 2)} · "
                               f"{summary.reference}")
    canvas.line(MARGIN, 15 * mm, PAGE_WIDTH - MARGIN, 15 * mm)
    canvas.setFont(FONT_BOLD, 7.5)
    canvas.drawString(MARGIN, 11 * mm, "Confidential — contains protected health information")
    canvas.drawRightString(PAGE_WIDTH - MARGIN, 11 * mm, f"Page {number} of {total}")
    canvas.setFont(FONT, 7.5)
    canvas.drawString(MARGIN, 7.5 * mm, f"Reference {summary.reference}")
    if number == total:
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN, 7.5 * mm,
            f"Questionnaire {summary.questionnaire_version} · Rules {summary.rules_version}"
            f" · Generated {summary.generated_at}",
        )
    canvas.restoreState()


def _shorten(value: str, room: float) -> str:
    """Cut a running-header string with an ellipsis so that it fits its room."""
    while stringWidth(value, FONT, 7.5) > room:
        value = value[:-2] + "…"
    return value


def render_pdf(summary: Summary, font_dir: str | None = None) -> bytes:
    """The physician PDF of one summary, as bytes."""
    register_fonts(font_dir)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=15 * mm, bottomMargin=20 * mm,
        title=summary.title, author=summary.clinic_name,
        subject="Patient-reported screening summary", creator="intake",
    )
    document.build(_Document(summary).story(), canvasmaker=_page_canvas(summary))
    return buffer.getvalue()

