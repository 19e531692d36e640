"""The dashboard on a large study, in headless chromium (Debian's chromium + chromium-driver +
python3-selenium, as the browser test):

  1. time from opening the study's page to its first chart drawn (the optimization history with
     data), to the table's first page, and to the parameter importance, each on a freshly started
     server (--repeat times); where that time goes, from the page's own clock (navigation timing
     and the performance marks app.js sets); the bytes of /api/points (the page's first request
     asks for max_points=500, the full one for 2,000);
  2. the time `metadial report` takes on the study and the size of its file;
  3. the throughput of a `metadial tune` worker writing to the same SQLite file, with the page
     closed, open in chromium on the same machine, and replaced by a client that sends the page's
     requests without drawing (a browser on another machine), alternated twice.

  /usr/bin/python3 bench/dashboard/first_chart.py build/release/bin/metadial [--trials 20000] [--more 1000]
      [--repeat 3] [--skip-throughput]

The study (random search on hartmann6, one fidelity) is made by `metadial tune` in a temporary
folder, removed at the end. Timings include chromium's own work on this machine; each is one run,
so repeat for a spread. Prints a Markdown table.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CONFIG = """[study]
name = "big"
sampler = "random"
seed = 1
[objective]
function = "hartmann6"
"""

PAGE_CLOCK = """
const nav = performance.getEntriesByType('navigation')[0];
const marks = {};
for (const e of performance.getEntriesByType('mark')) if (!(e.name in marks)) marks[e.name] = e.startTime;
return {html: nav.responseEnd, scripts_run: nav.domContentLoadedEventEnd, marks};
"""

CHART_HAS_DATA = """
const ch = Chart.getChart(document.getElementById(arguments[0]));
return !!ch && ch.data.datasets.some(d => d.data.length > 0);
"""


def tune(binary, work, trials):
    start = time.monotonic()
    subprocess.run([binary, 'tune', 'big.toml', '--storage', 'sqlite:big.db', '--trials', str(trials)], cwd=work,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def poll_like_the_page(base, stop):
    """The page's requests (src/dashboard/web/app.js), every second, without drawing anything."""
    def get(path, **q):
        q['study'] = 'big'
        return json.loads(urllib.request.urlopen(base + 'api/' + path + '?' + urllib.parse.urlencode(q)).read())
    cursor = get('study')['cursor']
    while not stop.wait(1.0):
        j = get('changes', cursor=cursor)
        if j['changed']:
            cursor = get('study')['cursor']
            get('points')
            get('trials', offset=0, limit=50, sort='number', order='asc')
            get('curves')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('binary')
    ap.add_argument('--trials', type=int, default=20000)
    ap.add_argument('--more', type=int, default=1000, help='trials each tune run adds for the throughput')
    ap.add_argument('--repeat', type=int, default=3, help='page loads, each on a freshly started server')
    ap.add_argument('--skip-throughput', action='store_true', help='measure the page only')
    args = ap.parse_args()
    binary = os.path.realpath(args.binary)
    work = tempfile.mkdtemp(prefix='metadial-first-chart-')
    server = driver = None
    rows = []
    try:
        with open(os.path.join(work, 'big.toml'), 'w') as f:
            f.write(CONFIG)
        made = tune(binary, work, args.trials)
        rows.append((f'make the study: tune --trials {args.trials}', f'{made:.1f} s'))
        start = time.monotonic()
        subprocess.run([binary, 'report', '--storage', 'sqlite:big.db', '--study', 'big', '--out', 'report.html'],
                       cwd=work, check=True, stdout=subprocess.DEVNULL)
        rows.append(('metadial report: time, size of report.html',
                     f"{time.monotonic() - start:.2f} s, {os.path.getsize(os.path.join(work, 'report.html')) / 1e6:.2f} MB"))

        server = subprocess.Popen([binary, 'dashboard', '--storage', 'sqlite:big.db', '--port', '0', '--study', 'big'],
                                  cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = []
        t = threading.Thread(target=lambda: line.append(server.stdout.readline()), daemon=True)
        t.start()
        t.join(60)
        url = line[0].split()[1]
        base = url.split('#')[0]
        body = urllib.request.urlopen(base + 'api/points?' + urllib.parse.urlencode({'study': 'big'})).read()
        rows.append(('/api/points payload', f'{len(body) / 1e6:.3f} MB'))
        body = urllib.request.urlopen(base + 'api/points?' + urllib.parse.urlencode({'study': 'big', 'max_points': 500})).read()
        rows.append(('/api/points?max_points=500 payload (the first drawing)', f'{len(body) / 1e6:.3f} MB'))

        options = webdriver.ChromeOptions()
        options.binary_location = '/usr/bin/chromium'
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                  '--disable-background-networking', '--no-first-run', '--window-size=1400,3000',
                  '--user-data-dir=' + os.path.join(work, 'profile')):
            options.add_argument(a)
        driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
        wait = WebDriverWait(driver, 120, poll_frequency=0.01)
        for run in range(1, args.repeat + 1):
            # A fresh server each time (it reads the study before it prints its URL, as `metadial
            # dashboard` does), and a new origin, so that nothing comes from the browser's cache.
            driver.get('about:blank')
            server.terminate()
            server.wait(10)
            server = subprocess.Popen([binary, 'dashboard', '--storage', 'sqlite:big.db', '--port', '0', '--study', 'big'],
                                      cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = []
            t = threading.Thread(target=lambda: line.append(server.stdout.readline()), daemon=True)
            t.start()
            t.join(60)
            url = line[0].split()[1]
            base = url.split('#')[0]
            start = time.monotonic()
            driver.get(url)
            wait.until(lambda d: d.execute_script(CHART_HAS_DATA, 'chart-history'))
            rows.append((f'page opened -> first chart (history) drawn (load {run})', f'{time.monotonic() - start:.2f} s'))
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#trials tbody tr')) > 0)
            rows.append((f'page opened -> table drawn (load {run})', f'{time.monotonic() - start:.2f} s'))
            wait.until(lambda d: d.execute_script(CHART_HAS_DATA, 'chart-importance'))
            rows.append((f'page opened -> importance drawn (load {run})', f'{time.monotonic() - start:.2f} s'))
            clock = driver.execute_script(PAGE_CLOCK)
            parts = [f"HTML {clock['html']:.0f}", f"scripts run {clock['scripts_run']:.0f}"]
            parts += [f"{k[3:]} {v:.0f}" for k, v in sorted(clock['marks'].items(), key=lambda kv: kv[1])]
            rows.append((f'the page\'s clock, ms from navigation start (load {run})', ', '.join(parts)))

        # Throughput: alternate runs with the page closed (about:blank), open in chromium on this
        # machine (polling every second and redrawing), and replaced by a client that sends the
        # page's requests without drawing (as a browser on another machine loads this one).
        total = args.trials
        for round_ in () if args.skip_throughput else (1, 2):
            for mode in ('closed', 'open in chromium', 'polled without drawing'):
                driver.get(url if mode == 'open in chromium' else 'about:blank')
                if mode == 'open in chromium':
                    wait.until(lambda d: d.execute_script(CHART_HAS_DATA, 'chart-history'))
                stop = threading.Event()
                poller = threading.Thread(target=poll_like_the_page, args=(base, stop), daemon=True)
                if mode == 'polled without drawing':
                    poller.start()
                total += args.more
                took = tune(binary, work, total)
                stop.set()
                if poller.is_alive():
                    poller.join()
                rows.append((f'tune +{args.more} trials (run {round_}), dashboard {mode}',
                             f'{took:.2f} s ({args.more / took:.0f} trials/s)'))
    finally:
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
    print('| measure | value |\n|---|---|')
    for k, v in rows:
        print(f'| {k} | {v} |')


if __name__ == '__main__':
    main()
