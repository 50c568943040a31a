// Starts GraphiQL. It lives in a file rather than an inline <script> so that the page's
// Content-Security-Policy can refuse every inline script.
(function () {
  'use strict';

  // Credentials travel only in request headers, never in a URL, and are never written to the
  // browser's storage: shouldPersistHeaders keeps them out of the tab state, and this storage
  // drops them from the history and favourites, which GraphiQL 3 saves with their headers.
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

  var root = document.getElementById('graphiql');
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: root.dataset.endpoint }),
      storage: storage,
      defaultHeaders: JSON.stringify({ 'X-API-Key': '<paste a key>' }, null, 2),
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
