import { callService } from '../../../appsscript/server/service-client';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';

describe('service client', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  beforeEach(() => {
    fakes = createFakes();
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  it('sends the identity token, the API key header and JSON, with muteHttpExceptions', () => {
    fakes.UrlFetchApp.handler = () => ({ status: 200, body: { ok: 1 } });
    const key = fakeApiKey();
    expect(callService({ method: 'post', path: '/v1/runs', body: { a: 1 }, apiKey: key })).toEqual({ ok: 1 });
    const call = fakes.UrlFetchApp.calls[0]!;
    expect(call.url).toBe('http://127.0.0.1:8080/v1/runs');
    expect(call.params).toMatchObject({
      method: 'post',
      muteHttpExceptions: true,
      contentType: 'application/json',
      payload: '{"a":1}',
    });
    expect(call.params.headers).toMatchObject({
      authorization: 'Bearer eyJ.fake-identity-token.sig',
      'x-postato-api-key': key,
    });
  });

  it('sends the Drive token only with run requests whose rows name Drive files', () => {
    fakes.UrlFetchApp.handler = () => ({ status: 200, body: {} });
    const rows = (media: string) => ({ rows: [{ rowNumber: 2, values: ['k1', 'x', 'acc_1', 'Hi', media] }] });
    const key = fakeApiKey();
    callService({ method: 'post', path: '/v1/runs', body: rows('drive:1AbCdEfGhIjKlMnOp'), apiKey: key });
    callService({
      method: 'post',
      path: '/v1/runs',
      body: rows('https://drive.google.com/file/d/1AbC/view'),
      apiKey: key,
    });
    callService({ method: 'post', path: '/v1/runs', body: rows('https://cdn.example.com/a.jpg'), apiKey: key });
    callService({ method: 'get', path: '/v1/runs/run_1' });
    const sent = fakes.UrlFetchApp.calls.map((c) => c.params.headers['x-drive-access-token']);
    expect(sent).toEqual(['ya29.fake-oauth-token', 'ya29.fake-oauth-token', undefined, undefined]);
  });

  it('uses the shared secret and the temporary user key on self-hosted installs', () => {
    fakes.PropertiesService.script.setProperty('SHARED_SECRET', 'team-secret');
    fakes.UrlFetchApp.handler = () => ({ status: 200, body: {} });
    callService({ method: 'get', path: '/v1/sheets/service-account' });
    const headers = fakes.UrlFetchApp.calls[0]!.params.headers;
    expect(headers['x-shared-secret']).toBe('team-secret');
    expect(headers['x-user-id']).toBe(fakes.Session.userKey);
    expect(headers.authorization).toBeUndefined();
  });

  it('shows the service error message, with anything key-shaped removed', () => {
    const key = fakeApiKey();
    fakes.UrlFetchApp.handler = () => ({
      status: 400,
      body: { error: 'bad_request', message: `Row 3: Content is empty (key ${key}).` },
    });
    expect(() => callService({ method: 'post', path: '/v1/runs', body: {} })).toThrow(
      'Row 3: Content is empty (key smcp_…).',
    );
  });

  it('turns unreadable errors, network failures and a missing token into sentences', () => {
    fakes.UrlFetchApp.handler = () => ({ status: 502, text: '<html>Bad gateway</html>' });
    expect(() => callService({ method: 'get', path: '/x' })).toThrow(
      /had a problem \(HTTP 502\)\. Try again in a minute/,
    );
    fakes.UrlFetchApp.handler = () => {
      throw new Error('Exception: DNS error: http://127.0.0.1:8080/x');
    };
    expect(() => callService({ method: 'get', path: '/x' })).toThrow(
      /Google could not reach the Postato Sheets service at .*The service may be down/,
    );
    fakes.ScriptApp.identityToken = null;
    expect(() => callService({ method: 'get', path: '/x' })).toThrow(/allow the requested permissions/);
  });

  it('explains a 429 and a 401 when the body has no message', () => {
    fakes.UrlFetchApp.handler = () => ({ status: 429, text: '' });
    expect(() => callService({ method: 'get', path: '/x' })).toThrow(/Wait a minute/);
    fakes.UrlFetchApp.handler = () => ({ status: 401, body: {} });
    expect(() => callService({ method: 'get', path: '/x' })).toThrow(/did not accept your sign-in/);
  });
});
