/**
 * The one stand-in the Picker test can't avoid: Google's servers are out of reach here, so the browser is answered,
 * for https://apis.google.com/js/api.js, with this small script instead. Its gapi.load('picker') gives a
 * google.picker with the names and values Google's has (Response.ACTION = 'action', Action.PICKED = 'picked', …),
 * records every builder call in window.__pickerCalls (a view as its id, shared drives on or off and MIME types), and setVisible(true) shows the given files as checkboxes with
 * Select and Cancel buttons that answer the page's callback as Google's Picker does. Like Google's, picking grants the
 * app drive.file access to the picked files: Select first hands their ids to window.__grantPicked when the test
 * exposes one (it tells the Drive fake), then answers the callback.
 */

/** A file the fake Picker offers. */
export interface FakeDriveFile {
  id: string;
  name: string;
  mimeType: string;
}

/** Where the page loads Google's Picker loader from. */
export const GOOGLE_API_LOADER = 'https://apis.google.com/js/api.js';

/** The fake loader's source, offering `files`. */
export function fakePickerLoader(files: FakeDriveFile[]): string {
  return `(function () {
  var FILES = ${JSON.stringify(files)};
  var calls = (window.__pickerCalls = []);
  function Builder() {}
  ['setOAuthToken', 'setDeveloperKey', 'setAppId', 'setOrigin', 'setTitle', 'setSize'].forEach(function (name) {
    Builder.prototype[name] = function (value) { calls.push([name, value]); return this; };
  });
  Builder.prototype.addView = function (view) {
    calls.push(['addView', view.viewId, view.drives === true, view.mimeTypes || null]);
    return this;
  };
  Builder.prototype.enableFeature = function (feature) { calls.push(['enableFeature', feature]); return this; };
  Builder.prototype.setCallback = function (callback) { this.callback = callback; return this; };
  Builder.prototype.build = function () {
    var callback = this.callback;
    return { setVisible: function (on) { if (on) show(callback); } };
  };
  function DocsView(viewId) { this.viewId = viewId; }
  DocsView.prototype.setIncludeFolders = function () { return this; };
  DocsView.prototype.setSelectFolderEnabled = function () { return this; };
  DocsView.prototype.setEnableDrives = function (on) { this.drives = on; return this; };
  DocsView.prototype.setMimeTypes = function (types) { this.mimeTypes = types; return this; };
  function show(callback) {
    var box = document.createElement('div');
    box.id = 'fake-picker';
    FILES.forEach(function (file) {
      var label = document.createElement('label');
      var box1 = document.createElement('input');
      box1.type = 'checkbox';
      box1.value = file.id;
      label.append(box1, ' ' + file.name);
      box.append(label);
    });
    function answer(data) { box.remove(); callback(data); }
    var select = document.createElement('button');
    select.id = 'fake-picker-select';
    select.textContent = 'Select';
    select.onclick = function () {
      var docs = FILES.filter(function (f) { return box.querySelector('input[value="' + f.id + '"]').checked; })
        .map(function (f) { return { id: f.id, name: f.name, mimeType: f.mimeType, serviceId: 'docs' }; });
      var ids = docs.map(function (d) { return d.id; });
      Promise.resolve(window.__grantPicked ? window.__grantPicked(ids) : null).then(function () {
        answer({ action: 'picked', docs: docs });
      });
    };
    var cancel = document.createElement('button');
    cancel.id = 'fake-picker-cancel';
    cancel.textContent = 'Cancel';
    cancel.onclick = function () { answer({ action: 'cancel' }); };
    box.append(select, cancel);
    document.body.append(box);
  }
  window.gapi = {
    load: function (name, options) {
      if (name !== 'picker') return options.onerror();
      window.google.picker = {
        PickerBuilder: Builder,
        DocsView: DocsView,
        ViewId: { DOCS: 'all', DOCS_IMAGES_AND_VIDEOS: 'docs-images-and-videos' },
        Feature: { MULTISELECT_ENABLED: 'multiselectEnabled', SUPPORT_DRIVES: 'sdr' },
        Action: { PICKED: 'picked', CANCEL: 'cancel' },
        Response: { ACTION: 'action', DOCUMENTS: 'docs' },
        Document: { ID: 'id', NAME: 'name', MIME_TYPE: 'mimeType' },
      };
      setTimeout(options.callback, 0);
    },
  };
})();`;
}
