// Entry point of the viewer's page (bundled by scripts/build.mjs into dist/viewer/assets/app.js).
import { render } from 'preact';
import { App } from './app';
import './style.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
