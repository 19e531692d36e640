"""The dashboard in headless chromium (run by browser_test.sh; arguments: the metadial binary, the
build folder).

A study named `<script>alert(1)</script> & "lc"` (which must show as text, never run) gets 16 trials
of the learning-curve objective from `metadial tune`; `metadial dashboard --port 0` serves its SQLite
file. The page must draw every chart (a canvas with pixels and data), list the trials, sort them by
value both ways when the header is clicked; then a second `metadial tune` process adds 8 trials and
they must appear in the table and the history chart without a reload. Last, `metadial report`
writes the study to <build>/dashboard-browser/report.html, which must draw every chart and list the
trials when opened as a file:// page, with the name as text. Screenshots go to
<build>/dashboard-browser/. Every process started here is stopped at the end, also on failure.
Waits are generous timeouts, not timed assertions.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

NAME = '<script>alert(1)</script> & "lc"'
WAIT_S = 60

CONFIG = """[study]
name = "unused"
sampler = "random"
seed = 3
[objective]
function = "learning_curve"
steps = 12
dim = 3
"""

HAS_DATA = """
const c = arguments[0];
const chart = Chart.getChart(c);
if (!chart) return 'no chart';
const n = chart.data.datasets.reduce((s, d) => s + d.data.length, 0);
if (n === 0) return 'no data';
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return 'ok';
return 'blank canvas';
"""


def fail(msg):
    raise AssertionError(msg)


def tune(binary, work, trials):
    r = subprocess.run([binary, 'tune', os.path.join(work, 'lc.toml'), '--storage', 'sqlite:' + os.path.join(work, 'runs.db'),
                        '--study', NAME, '--trials', str(trials)], cwd=work, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f'tune --trials {trials} exited {r.returncode}: {r.stderr.strip()}')


def main():
    binary, build = sys.argv[1], sys.argv[2]
    shots = os.path.join(build, 'dashboard-browser')
    os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix='metadial-browser-')
    server = None
    driver = None
    # A hard stop: whatever hangs, the finally below still stops the server and the browser.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError('browser test took over 170 s')))
    signal.alarm(170)
    try:
        with open(os.path.join(work, 'lc.toml'), 'w') as f:
            f.write(CONFIG)
        tune(binary, work, 16)

        server = subprocess.Popen([binary, 'dashboard', '--storage', 'sqlite:' + os.path.join(work, 'runs.db'),
                                   '--port', '0', '--study', NAME], cwd=work, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        first = []
        reader = threading.Thread(target=lambda: first.append(server.stdout.readline()), daemon=True)
        reader.start()
        reader.join(WAIT_S)
        if not first or not first[0].startswith('dashboard: http://127.0.0.1:'):
            fail(f'the dashboard printed no URL: {first!r}, exit {server.poll()}')
        url = first[0].split()[1]

        options = webdriver.ChromeOptions()
        options.binary_location = '/usr/bin/chromium'
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                  '--disable-background-networking', '--disable-extensions', '--no-first-run',
                  '--window-size=1400,3000', '--user-data-dir=' + os.path.join(work, 'profile')):
            options.add_argument(a)
        driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
        driver.set_script_timeout(WAIT_S)
        driver.get(url)
        wait = WebDriverWait(driver, WAIT_S)
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-trials') == '16')
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#trials tbody tr')) == 16)

        # The name is text: the heading shows it verbatim, no script ran, no element was injected.
        if driver.find_element(By.ID, 'study-name').text != NAME:
            fail(f"the heading reads {driver.find_element(By.ID, 'study-name').text!r}, not the study's name")
        try:
            driver.switch_to.alert
            fail('an alert opened: the study name ran as a script')
        except NoAlertPresentException:
            pass
        if driver.execute_script("return document.querySelectorAll('main script').length") != 0:
            fail('a script element was injected into the page')

        # Every chart drew: a Chart with data and a canvas with pixels.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, 'canvas.slice')) == 3)
        ids = ['chart-history', 'chart-cost', 'chart-curves', 'chart-importance', 'chart-parallel']
        canvases = [driver.find_element(By.ID, i) for i in ids] + driver.find_elements(By.CSS_SELECTOR, 'canvas.slice')
        for c in canvases:
            wait.until(lambda d, c=c: d.execute_script(HAS_DATA, c) == 'ok',
                       message=f"chart {c.get_attribute('id')} did not draw")
        driver.save_screenshot(os.path.join(shots, 'study.png'))

        # Sorting: the value header sorts ascending, a second click descending (a minimized study).
        # Read and click in one script each: the page may replace the rows between two WebDriver calls.
        def values():
            return driver.execute_script(
                "return [...document.querySelectorAll('#trials tbody tr td:nth-child(3)')]"
                ".map(c => c.textContent).filter(t => t !== '-').map(Number);")

        def click(selector):
            driver.execute_script('document.querySelector(arguments[0]).click();', selector)

        def sorted_values(reverse):
            v = values()
            return v if v == sorted(v, reverse=reverse) else None

        click("#trials th[data-sort='value']")
        wait.until(lambda d: (v := sorted_values(False)) is not None and len(v) == 16, message='not sorted ascending')
        click("#trials th[data-sort='value']")
        wait.until(lambda d: (v := sorted_values(True)) is not None and len(v) == 16, message='not sorted descending')

        # Live: trials finished by another process show up without a reload.
        driver.execute_script('window.__same_page = 42;')
        tune(binary, work, 24)
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-trials') == '24',
                   message='the new trials did not reach the page')
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#trials tbody tr[data-number='23']")) == 1,
                   message='trial 23 is not in the table')
        history_has_23 = """
            const ch = Chart.getChart(document.getElementById('chart-history'));
            return ch.data.datasets.some(ds => ds.data.some(p => p.x === 23));"""
        wait.until(lambda d: d.execute_script(history_has_23), message='trial 23 is not in the history chart')
        if driver.execute_script('return window.__same_page') != 42:
            fail('the page was reloaded')
        wait.until(lambda d: (v := sorted_values(True)) is not None and len(v) == 24,
                   message='the table lost its sort order or rows on the update')

        # The trial detail opens on a click.
        click("#trials tbody tr[data-number='23']")
        wait.until(lambda d: d.find_element(By.ID, 'trial-title').text.startswith('Trial 23'))
        driver.save_screenshot(os.path.join(shots, 'study-after-update.png'))

        # The list of studies shows the name as text too.
        driver.get(url.split('#')[0])
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-studies') == '1')
        link = driver.find_element(By.CSS_SELECTOR, '#studies tbody a')
        if link.text != NAME:
            fail(f'the list shows {link.text!r}')
        driver.save_screenshot(os.path.join(shots, 'studies.png'))

        # The report: a file:// page that draws the same charts from its own data (its CSP forbids
        # any fetch) and lists every trial, sorted by a click.
        report = os.path.join(os.path.abspath(shots), 'report.html')
        r = subprocess.run([binary, 'report', '--storage', 'sqlite:' + os.path.join(work, 'runs.db'), '--study', NAME,
                            '--out', report], cwd=work, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail(f'report exited {r.returncode}: {r.stderr.strip()}')
        driver.get('file://' + report)
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute('data-trials') == '24',
                   message='the report did not draw its study')
        if driver.find_element(By.ID, 'study-name').text != NAME:
            fail(f"the report's heading reads {driver.find_element(By.ID, 'study-name').text!r}")
        try:
            driver.switch_to.alert
            fail('an alert opened in the report: the study name ran as a script')
        except NoAlertPresentException:
            pass
        canvases = [driver.find_element(By.ID, i) for i in ids] + driver.find_elements(By.CSS_SELECTOR, 'canvas.slice')
        if len(canvases) != len(ids) + 3:
            fail(f'the report has {len(canvases)} charts, expected {len(ids) + 3}')
        for c in canvases:
            wait.until(lambda d, c=c: d.execute_script(HAS_DATA, c) == 'ok',
                       message=f"chart {c.get_attribute('id')} of the report did not draw")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#trials tbody tr')) == 24)
        click("#trials th[data-sort='value']")
        wait.until(lambda d: (v := sorted_values(False)) is not None and len(v) == 24,
                   message='the report\'s table did not sort')
        click("#trials tbody tr[data-number='5']")
        wait.until(lambda d: d.find_element(By.ID, 'trial-title').text.startswith('Trial 5'))
        driver.save_screenshot(os.path.join(shots, 'report.png'))
        print('browser_check: ok (screenshots in ' + shots + ')')
    except BaseException:
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(shots, 'failure.png'))
                print('browser_check: the page at the failure: ' + os.path.join(shots, 'failure.png'), file=sys.stderr)
            except Exception:  # the browser itself may be what failed
                pass
        raise
    finally:
        signal.alarm(0)
        if driver is not None:
            driver.quit()
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
