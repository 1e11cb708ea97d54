package io.spindle.admin;

/** A column that travels in an export, and how its value is written in JSON. */
record Column(String name, Type type) {

    /** How a value is kept in JSON: text as a string, a number, true/false, bytes as base64. */
    enum Type { TEXT, NUMBER, FLAG, BYTES }

    static Column text(String name) {
        return new Column(name, Type.TEXT);
    }

    static Column number(String name) {
        return new Column(name, Type.NUMBER);
    }

    static Column flag(String name) {
        return new Column(name, Type.FLAG);
    }

    static Column bytes(String name) {
        return new Column(name, Type.BYTES);
    }
}
