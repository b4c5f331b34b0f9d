"""Finance opens the annual report from the menu, follows a figure to the list it counts,
prints nothing but the report, and downloads the Word document."""

from io import BytesIO

from docx import Document

YEAR = 2025


def test_finance_reads_the_annual_report_and_downloads_it(page_as, shot):
    page = page_as("finance")
    page.get_by_role("link", name="报告", exact=True).click()
    page.get_by_role("link", name="绩效管理报告").click()
    page.locator("#year").select_option(str(YEAR))
    page.get_by_role("button", name="显示").click()
    page.locator('[data-document="annual"]').get_by_role("link", name="打印页面").click()
    report = page.locator("article.jixiao-report")
    assert f"{YEAR} 年全面实施预算绩效管理情况的说明" in report.inner_text()
    shot(page, "reports_annual")
    page.emulate_media(media="print")
    assert not page.locator(".navbar").first.is_visible()
    assert report.is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("link", name="Word 文档").first.click()
    assert download.value.suggested_filename == f"annual-report-{YEAR}.docx"
    word = Document(BytesIO(open(download.value.path(), "rb").read()))
    assert f"{YEAR} 年全面实施预算绩效管理情况的说明" in [p.text for p in word.paragraphs]
    report.get_by_role("link", name="已批复绩效目标的预算项目").click()
    assert "/admin/target-coverage/" in page.url
