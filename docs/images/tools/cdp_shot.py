#!/usr/bin/env python3
"""Render a trace2html page in headless Chromium, zoom the catapult trace viewer to a
time window, turn on a flow-event category, and screenshot it (Chrome DevTools Protocol)."""
import argparse, base64, json, os, subprocess, sys, tempfile, time, urllib.request
import websocket  # websocket-client

ap = argparse.ArgumentParser()
ap.add_argument('html'); ap.add_argument('png')
ap.add_argument('--start', type=float, required=True, help='window start, us')
ap.add_argument('--end', type=float, required=True, help='window end, us')
ap.add_argument('--trace', help='the trace JSON the page was made from: window times are then its own ts (the viewer shifts the first event to 0)')
ap.add_argument('--select', help='NAME@TS: select the slice of that name starting at that file ts (us), shown in the analysis panel')
ap.add_argument('--flows', default='ipi', help='flow categories to show, comma-separated')
ap.add_argument('--width', type=int, default=1600); ap.add_argument('--height', type=int, default=900)
ap.add_argument('--port', type=int, default=9333)
a = ap.parse_args()

shift = 0.0
if a.trace:
    d = json.load(open(a.trace)); ev = d['traceEvents'] if isinstance(d, dict) else d
    shift = min(e['ts'] for e in ev if 'ts' in e)
    print('first ts in file:', shift, 'us')
prof = tempfile.mkdtemp(prefix='cdp-prof-')
chrome = subprocess.Popen(['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', f'--window-size={a.width},{a.height}',
    f'--remote-debugging-port={a.port}', '--remote-allow-origins=*', f'--user-data-dir={prof}',
    'about:blank'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            tabs = json.load(urllib.request.urlopen(f'http://127.0.0.1:{a.port}/json'))
            page = [t for t in tabs if t['type'] == 'page'][0]; break
        except Exception:
            time.sleep(0.2)
    ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=60)
    n = [0]
    def call(method, **params):
        n[0] += 1; ws.send(json.dumps({'id': n[0], 'method': method, 'params': params}))
        while True:
            m = json.loads(ws.recv())
            if m.get('id') == n[0]:
                if 'error' in m: raise RuntimeError(m['error'])
                return m['result']
            if m.get('method') == 'Runtime.consoleAPICalled':
                print('console:', ' '.join(str(x.get('value', x.get('description'))) for x in m['params']['args']))
            if m.get('method') == 'Runtime.exceptionThrown':
                print('exception:', m['params']['exceptionDetails'].get('exception', {}).get('description'))
    def js(expr):
        r = call('Runtime.evaluate', expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(r['exceptionDetails'])
        return r['result'].get('value')
    call('Runtime.enable'); call('Page.enable')
    call('Emulation.setDeviceMetricsOverride', width=a.width, height=a.height, deviceScaleFactor=1, mobile=False)
    call('Page.navigate', url='file://' + os.path.abspath(a.html))
    # wait until the model is imported and the import overlay is gone
    for i in range(240):
        time.sleep(0.5)
        st = js("""(() => { const v = document.querySelector('tr-ui-timeline-view');
            if (!v || !v.model || !v.trackView) return null;
            const o = document.querySelector('tr-ui-b-overlay');
            return {events: v.model.getAllThreads().map(t => t.name + ':' + t.sliceGroup.length),
                    bounds: [v.model.bounds.min, v.model.bounds.max],
                    overlay: !!(o && o.visible)}; })()""")
        if st and not st['overlay']: break
    else:
        sys.exit('trace viewer did not finish importing: %r' % (st,))
    print('loaded:', st)
    time.sleep(1)
    # turn on the wanted flow categories (the "Flow events" dropdown's checkboxes)
    print('flows:', js("""(() => { const v = document.querySelector('tr-ui-timeline-view');
        const want = %s; const got = [];
        for (const cb of Polymer.dom(v.$.flow_event_filter_dropdown).querySelectorAll('input[type=checkbox]')) {
          const label = (cb.parentElement ? cb.parentElement.textContent : '').trim();
          got.push(label);
          if (want.includes(label) && !cb.checked) cb.click();  // as a user ticking it
        }
        got.push('selected=' + [...v.selectedFlowEvents].join('+'));
        v.trackView.viewport.dispatchChangeEvent();
        return got; })()""" % json.dumps(a.flows.split(','))))
    # zoom to [start, end] (microseconds in the file = milliseconds? no: the model is in ms)
    print('zoom:', js("""(() => { const v = document.querySelector('tr-ui-timeline-view');
        const tv = v.trackView; const vp = tv.viewport;
        const dt = new tr.ui.TimelineDisplayTransform(); dt.set(vp.currentDisplayTransform);
        const w = tv.modelTrackContainer_.canvas.width;
        dt.xSetWorldBounds(%f / 1000, %f / 1000, w);
        vp.setDisplayTransformImmediately(dt);
        return [w, vp.currentDisplayTransform.panX, vp.currentDisplayTransform.scaleX]; })()""" % (a.start - shift, a.end - shift)))
    if a.select:
        name, ts = a.select.split('@')
        print('select:', js('''(() => { const v = document.querySelector('tr-ui-timeline-view');
          const want = %f / 1000; let best = null;
          for (const t of v.model.getAllThreads()) for (const s of t.sliceGroup.slices)
            if (s.title === %s && (!best || Math.abs(s.start - want) < Math.abs(best.start - want))) best = s;
          if (!best) return null;
          v.brushingStateController.changeSelectionFromTimeline(new tr.model.EventSet([best]));
          return [best.parentContainer.name, best.title, best.start]; })()''' % (float(ts) - shift, json.dumps(name))))
    time.sleep(1.5)
    shot = call('Page.captureScreenshot', format='png')
    open(a.png, 'wb').write(base64.b64decode(shot['data']))
    print('wrote', a.png)
finally:
    chrome.terminate(); chrome.wait()
