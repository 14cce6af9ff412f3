#!/usr/bin/env python3
"""Checks for tests/e2e/test_specs.sh (standard library only).

  sources CORPUS_SPECS SOURCES_JSON   every document under CORPUS_SPECS that declares
                                      openapi/swagger at its top level is listed as a spec
  states ENDPOINTS_JSON               the truth capture judged against
                                      tests/fixtures/truth/api-example.yaml: exact states
  diff DIFF_JSON                      the totals and the one unused operation
"""
import json, os, re, sys

def top_level_kind(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.json'):
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        return isinstance(doc, dict) and ('openapi' in doc or 'swagger' in doc)
    # YAML: the keys at the indentation of the document's first key
    base = None
    for line in data.decode('utf-8', 'replace').splitlines():
        if not line.strip() or line.lstrip().startswith('#') or line.startswith('---'):
            continue
        indent = len(line) - len(line.lstrip(' '))
        if base is None:
            base = indent
        if indent == base and re.match(r'(openapi|swagger)\s*:', line[indent:]):
            return True
    return False

def check_sources(corpus, sources_json):
    want = set()
    for root, _, files in os.walk(corpus):
        for n in files:
            p = os.path.join(root, n)
            if n.endswith(('.json', '.yaml', '.yml')) and top_level_kind(p):
                want.add(os.path.realpath(p))
    got = {s['path']: s for s in json.load(open(sources_json))}
    bad = 0
    for p in sorted(want - set(got)):
        print('missing spec:', p); bad += 1
    for p in sorted(set(got) - want):
        print('not a spec but listed:', p); bad += 1
    for p, s in got.items():
        if s['kind'] != 'spec':
            print('wrong kind:', p, s['kind']); bad += 1
    def one(suffix):
        m = [s for p, s in got.items() if p.endswith(suffix)]
        return m[0] if m else None
    broken = one('edge/optic-broken-open-api.json')
    if not broken or broken['operations'] != 1 or not broken['warnings']:
        print('schema-invalid spec: want 1 operation and warnings, got', broken); bad += 1
    empty = one('edge/optic-empty.json')
    if not empty or empty['operations'] != 0 or 'no paths' not in ' '.join(empty['warnings']):
        print('empty spec: want 0 operations and a "no paths" warning, got', empty); bad += 1
    box = one('large/box-platform-openapi.json')
    if not box or box['operations'] != 296:
        print('Box: want 296 operations, got', box and box['operations']); bad += 1
    print(f'sources: {len(want)} specs expected, {len(got)} listed, {bad} problems')
    return bad == 0

# host, method, template -> state for the truth capture and api-example.yaml
A, I, O, S = 'api.example.test', 'api-internal.example.test', 'orders.internal:3000', 'shop.example.test'
STATES = {
    (A, 'GET', '/api/v1/users'): 'documented',
    (A, 'GET', '/api/v1/users/{id}'): 'documented',
    (A, 'PUT', '/api/v1/users/{id}'): 'documented',
    (A, 'DELETE', '/api/v1/users/{id}'): 'zombie',
    (A, 'PATCH', '/api/v1/users/{id}'): 'shadow:undocumented method',
    (A, 'OPTIONS', '/api/v1/users/{id}'): 'shadow:undocumented method',
    (A, 'GET', '/api/v1/users/{id}/orders'): 'documented',
    (A, 'GET', '/api/v1/users/by-email/{email}'): 'shadow:unknown path',
    (A, 'POST', '/api/v1/auth/login'): 'documented',
    (A, 'POST', '/api/v1/auth/refresh'): 'shadow:unknown path',
    (A, 'GET', '/api/v1/search'): 'documented',
    (A, 'GET', '/api/v2/products'): 'documented',
    (A, 'GET', '/api/v2/products/{productId}'): 'documented',
    (A, 'HEAD', '/api/v2/products/{productId}'): 'documented',
    (A, 'GET', '/api/v1/accounts/{accountId}/transactions'): 'shadow:unknown path',
    (A, 'GET', '/api/v1/admin/metrics'): 'shadow:unknown path',
    (A, 'GET', '/api/v1/coupons/{couponId}'): 'noise',
    (A, 'GET', '/api/v1/invoices/{invoiceId}'): 'noise',
    (A, 'GET', '/api/v1/shipments/{shipmentId}'): 'noise',
    (A, 'GET', '/api/v1/tickets/{ticketId}'): 'noise',
    (A, 'GET', '/api/v1/widgets/{widgetId}'): 'noise',
    (A, 'POST', '/api/v1/events'): 'shadow:unknown path',
    (A, 'POST', '/api/v1/files'): 'shadow:unknown path',
    (A, 'GET', '/api/v1/files/{fileId}/download'): 'shadow:unknown path',
    (A, 'GET', '/api/v1/reports/daily/{date}'): 'shadow:unknown path',
    (A, 'DELETE', '/api/v1/sessions/{sessionId}'): 'shadow:unknown path',
    (A, 'GET', '/healthz'): 'shadow:unknown path',
    (I, 'POST', '/api/v1/orders'): 'shadow:unknown path',
    (I, 'GET', '/api/v1/users/{userId}'): 'shadow:unknown path',
    (I, 'GET', '/api/v2/products/{productId}'): 'shadow:unknown path',
    (O, 'POST', '/api/v1/orders'): 'shadow:unknown path',
    (O, 'GET', '/api/v1/orders/{orderId}'): 'shadow:unknown path',
    (O, 'GET', '/api/v1/orders/{orderId}/items'): 'shadow:unknown path',
    (O, 'POST', '/api/v1/orders/{orderId}/items'): 'shadow:unknown path',
    (O, 'GET', '/api/v1/orders/{orderId}/items/{itemId}'): 'shadow:unknown path',
    (O, 'GET', '/metrics'): 'shadow:unknown path',
    (S, 'GET', '/.env'): 'noise',
    (S, 'GET', '/.git/config'): 'noise',
    (S, 'GET', '/admin.php'): 'noise',
    (S, 'GET', '/phpmyadmin/index.php'): 'noise',
    (S, 'GET', '/wp-login.php'): 'noise',
    (S, 'GET', '/catalog/categories/{category}.json'): 'shadow:unknown path',
    (S, 'GET', '/catalog/index.json'): 'shadow:unknown path',
    (S, 'GET', '/catalog/products/{productId}.json'): 'shadow:unknown path',
    (S, 'POST', '/gw/api/v1/orders'): 'shadow:unknown path',
    (S, 'GET', '/gw/api/v1/users/{userId}'): 'shadow:unknown path',
    (S, 'GET', '/gw/api/v2/products/{productId}'): 'shadow:unknown path',
    (S, 'GET', '/static/app.3f9a1c.js'): 'shadow:unknown path',
    (S, 'GET', '/static/styles.9c1d2e.css'): 'shadow:unknown path',
}

def check_states(endpoints_json):
    got = {}
    for e in json.load(open(endpoints_json)):
        st = e['state'] + (':' + e['reason'] if e['state'] == 'shadow' else '')
        got[(e['host'], e['method'], e['path'])] = (st, e)
    bad = 0
    for k, want in STATES.items():
        if k not in got:
            print('missing endpoint:', *k); bad += 1
        elif got[k][0] != want:
            print('state of', *k, ':', got[k][0], 'want', want); bad += 1
    for k in set(got) - set(STATES):
        print('unexpected endpoint:', *k, got[k][0]); bad += 1
    z = got.get((A, 'DELETE', '/api/v1/users/{id}'))
    if z and (z[1]['spec'] or {}).get('pointer') != '/paths/~1v1~1users~1{id}/delete':
        print('zombie pointer:', z[1]['spec']); bad += 1
    print(f'states: {len(STATES)} endpoints expected, {len(got)} found, {bad} problems')
    return bad == 0

def check_diff(diff_json):
    d = json.load(open(diff_json))
    want = {'documented': 9, 'shadow': 29, 'zombie': 1, 'unused': 1, 'noise': 10, 'encrypted': 0}
    bad = 0
    if d['totals'] != want:
        print('diff totals:', d['totals'], 'want', want); bad += 1
    unused = [(h['host'], e['method'], e['template']) for h in d['hosts'] for e in h['endpoints']
              if e['state'] == 'unused']
    if unused != [(A, 'GET', '/api/v1/reports/export')]:
        print('unused:', unused); bad += 1
    print(f'diff: {bad} problems')
    return bad == 0

if __name__ == '__main__':
    cmd = sys.argv[1]
    ok = {'sources': lambda: check_sources(sys.argv[2], sys.argv[3]),
          'states': lambda: check_states(sys.argv[2]),
          'diff': lambda: check_diff(sys.argv[2])}[cmd]()
    sys.exit(0 if ok else 1)
