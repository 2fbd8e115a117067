from browser.test_staff_browser import *  # noqa
def test_measure(app, live_server, open_tab, submitted, physician):
    tab = open_tab(**PHONE)
    page = tab.page
    sign_in(page, physician)
    print("WIDTH", page.evaluate("document.scrollingElement.scrollWidth"))
    print(page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 375 && !e.closest('.table-scroll')).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""))
    page.add_style_tag(content=".filters .question { min-width: 0; max-width: 100%; }")
    print("WIDTH after fix", page.evaluate("document.scrollingElement.scrollWidth"))
    print(page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 375 && !e.closest('.table-scroll')).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))"""))
    print("SORT", page.evaluate("getComputedStyle(document.querySelector('#sort')).width"))
    follow(page, page.get_by_role("link", name=submitted["P11"], exact=True))
    print("DETAIL WIDTH", page.evaluate("document.scrollingElement.scrollWidth"))
    print("PROBLEMS", tab.problems)
