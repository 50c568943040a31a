// Starts GraphiQL. It lives in a file rather than an inline <script> so that the page's
// Content-Security-Policy can refuse every inline script.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  // Set by the server only for the built-in demo: [{label, key}], whose keys are public.
  var demoKeys = root.dataset.demoKeys ? JSON.parse(root.dataset.demoKeys) : [];
  var demo = demoKeys.length > 0;

  // Credentials travel only in request headers, never in a URL. Outside the demo they are never
  // written to the browser's storage: shouldPersistHeaders keeps them out of the tab state, and
  // this storage drops them from the history and favourites, which GraphiQL 3 saves with their
  // headers. The demo persists its headers (its keys are public), but not in the history.
  var prefix = 'graphiql:';
  function withoutHeaders(key, value) {
    if (key !== prefix + 'queries' && key !== prefix + 'favorites') {
      return value;
    }
    try {
      var stored = JSON.parse(value);
      (stored.queries || []).forEach(function (q) { delete q.headers; });
      return JSON.stringify(stored);
    } catch (e) {
      return null; // not what GraphiQL writes: store nothing rather than something unknown
    }
  }
  function ownKeys() {
    return Object.keys(localStorage).filter(function (k) { return k.indexOf(prefix) === 0; });
  }
  var storage = {
    getItem: function (key) { return localStorage.getItem(key); },
    setItem: function (key, value) {
      var v = withoutHeaders(key, value);
      if (v === null) {
        localStorage.removeItem(key);
      } else {
        localStorage.setItem(key, v);
      }
    },
    removeItem: function (key) { localStorage.removeItem(key); },
    clear: function () { ownKeys().forEach(function (k) { localStorage.removeItem(k); }); },
    get length() { return ownKeys().length; },
  };

  var e = React.createElement;
  function headersFor(key) {
    return JSON.stringify({ 'X-API-Key': key }, null, 2);
  }

  // keyIn returns the demo key the headers text holds, or ''.
  function keyIn(text) {
    var k = demoKeys.find(function (k) { return text.indexOf(k.key) >= 0; });
    return k ? k.key : '';
  }

  // DemoKeyPicker takes the logo's place: choosing a key writes it into the headers editor, and
  // the choice follows the editor, so it shows "other" for headers without a demo key. GraphiQL
  // renders it inside its providers, so it can reach the editors.
  function DemoKeyPicker() {
    var editor = GraphiQL.React.useEditorContext({ nonNull: true }).headerEditor;
    var state = React.useState('');
    var setKey = state[1];
    React.useEffect(function () {
      if (!editor) {
        return undefined;
      }
      function sync() { setKey(keyIn(editor.getValue())); }
      sync();
      editor.on('change', sync);
      return function () { editor.off('change', sync); };
    }, [editor]);
    function choose(ev) {
      if (editor && ev.target.value) {
        editor.setValue(headersFor(ev.target.value));
      }
    }
    return e('label', { className: 'vg-demo-keys' }, 'demo key ',
      e('select', { value: state[0], onChange: choose },
        e('option', { value: '', disabled: true }, 'other'),
        demoKeys.map(function (k) { return e('option', { key: k.key, value: k.key }, k.label); })));
  }

  var props = {
    fetcher: GraphiQL.createFetcher({ url: root.dataset.endpoint }),
    storage: storage,
    defaultHeaders: headersFor(demo ? demoKeys[0].key : '<paste a key>'),
    shouldPersistHeaders: demo,
    isHeadersEditorEnabled: true,
    defaultEditorToolsVisibility: 'headers',
  };
  if (root.dataset.defaultQuery) {
    props.defaultQuery = root.dataset.defaultQuery;
  }
  var logo = demo ? e(GraphiQL.Logo, null, e(DemoKeyPicker)) : null;
  ReactDOM.createRoot(root).render(e(GraphiQL, props, logo));
})();
