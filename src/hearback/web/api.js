// Every call to /v1 goes through here: it adds the Bearer key, and when the server answers
// 401 invalid_api_key it asks for the key (the key form) and tries again. The key lives in
// sessionStorage (this tab only), never in a URL or a cookie.

const KEY_ITEM = "hearback-key";
let waiting = null; // one pending key question shared by every call that needs it

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra) {
  const key = sessionStorage.getItem(KEY_ITEM);
  const out = new Headers(extra || {});
  if (key) out.set("Authorization", `Bearer ${key}`);
  return out;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    return new ApiError(response.status, body.error.code, body.error.message);
  } catch {
    return new ApiError(response.status, "http_" + response.status, response.statusText);
  }
}

// Shows the key form and resolves when a key was entered (a wrong one is asked again).
function askKey(wrong) {
  if (!waiting) {
    waiting = new Promise((resolve) => {
      const form = document.getElementById("key-form");
      const input = document.getElementById("key-input");
      document.getElementById("key-error").textContent =
        wrong ? "That key was refused. Try again." : "";
      form.hidden = false;
      document.body.classList.add("locked");
      input.focus();
      form.onsubmit = (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY_ITEM, input.value.trim());
        input.value = "";
        form.hidden = true;
        document.body.classList.remove("locked");
        waiting = null;
        resolve();
      };
    });
  }
  return waiting;
}

// fetch() on the API: the Response when it is 2xx, else an ApiError; asks for the key on 401.
export async function call(path, options = {}) {
  for (;;) {
    const response = await fetch(path, { ...options, headers: headers(options.headers) });
    if (response.ok) return response;
    const error = await errorOf(response);
    if (error.status !== 401 || error.code !== "invalid_api_key") throw error;
    const hadKey = sessionStorage.getItem(KEY_ITEM) !== null;
    sessionStorage.removeItem(KEY_ITEM);
    await askKey(hadKey);
  }
}

// Whether this tab sends a key (then media must be fetched with it, not linked).
export function hasKey() {
  return sessionStorage.getItem(KEY_ITEM) !== null;
}

export async function json(path, options) {
  return (await call(path, options)).json();
}

export function postJson(path, body) {
  return json(path, {
    method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
  });
}
