/**
 * Reports of several runs side by side: the model of a comparison (tables, ratios to the first
 * column, the cycle breakdown) built from finished columns, the geometry of its inline SVG charts,
 * the sweep report with its CSV, and the Mustache templates that render them as Markdown and
 * self-contained HTML. Pure functions of the results: nothing here reads the host.
 */
package org.mmuemu.app.compare;
